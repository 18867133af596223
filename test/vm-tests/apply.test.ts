/** ipvsc apply on a real kernel: idempotence, saved plans, rollback, drift repair, concurrency, foreign state (inside the IPVS VM: test/vm/). */
import { runTapInVm } from '../helpers/vm-tap.js';

await runTapInVm('test/vm-tests/apply-scenarios.sh', { minResults: 40, timeoutSeconds: 1400 });
