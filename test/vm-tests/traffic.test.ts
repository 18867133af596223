/** Real traffic through what ipvsc apply programmed, from client to backend network namespaces (inside the IPVS VM: test/vm/). */
import { runTapInVm } from '../helpers/vm-tap.js';

await runTapInVm('test/vm-tests/traffic-scenarios.sh', { minResults: 11, timeoutSeconds: 1400 });
