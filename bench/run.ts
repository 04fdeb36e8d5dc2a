// `npm run bench`: every benchmark of the project, one after the other. Speed and memory are measured here,
// not in the test suite.
import { runCheckerBench } from './checker.js';
import { runPowerLossBench } from './power-loss.js';
import { runTrialOverheadBench } from './trial-overhead.js';

await runCheckerBench();
await runPowerLossBench();
await runTrialOverheadBench();
