/** Every golden case's artifacts, complete, load into a kernel with IPVS (inside the IPVS VM: test/vm/). */
import { runTapInVm } from '../helpers/vm-tap.js';

await runTapInVm('test/vm-tests/load-in-vm.sh', { minResults: 60, timeoutSeconds: 900 });
