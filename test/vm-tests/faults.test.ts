/** Faults during apply: a tool failure and a SIGKILL at every step boundary (inside the IPVS VM: test/vm/). */
import { runTapInVm } from '../helpers/vm-tap.js';

await runTapInVm('test/vm-tests/fault-scenarios.sh', { minResults: 8, timeoutSeconds: 2300 });
