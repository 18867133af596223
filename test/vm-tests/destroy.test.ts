/** ipvsc plan/apply --destroy on a real kernel: kube-proxy --cleanup within ipvsc's ownership (inside the IPVS VM: test/vm/). */
import { runTapInVm } from '../helpers/vm-tap.js';

await runTapInVm('test/vm-tests/destroy-scenarios.sh', { minResults: 19, timeoutSeconds: 900 });
