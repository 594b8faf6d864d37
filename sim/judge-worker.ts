/**
 * One of the child processes sim/generated.ts judges generated worlds in: the worlds of seeds
 * `from`, `from + step`, ... up to `to`, each under the in-process product, the naive policy and
 * the oracle, written into `out`. Arguments: out from to step.
 */
import { generateScenario } from './generate';
import { judgeWorld, saveWorld } from './generated';

const [out, from, to, step] = process.argv.slice(2);
if (!out || !from || !to || !step) throw new Error('usage: judge-worker.ts out from to step');
for (let seed = Number(from); seed <= Number(to); seed += Number(step)) {
  const scenario = generateScenario(seed);
  saveWorld(out, scenario, judgeWorld(scenario));
}
