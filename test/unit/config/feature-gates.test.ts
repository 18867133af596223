/** Feature gates: the modelled one changes topology selection; any other is said to be ignored. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveConfig } from '../../../src/config/resolve-config.js';

test('PreferSameTrafficDistribution is on by default and can be turned off, without a warning', () => {
  assert.is(resolveConfig([], undefined).config.featureGates['PreferSameTrafficDistribution'], true);
  const r = resolveConfig([{ name: 'feature-gates', value: 'PreferSameTrafficDistribution=false' }], undefined);
  assert.is(r.config.featureGates['PreferSameTrafficDistribution'], false);
  assert.equal(r.diags, []);
});

test('a gate ipvsc does not model is a warning naming it, and compiles as before', () => {
  const r = resolveConfig([{ name: 'feature-gates', value: 'PreferSameTrafficDistributon=true,NFTablesProxyMode=true' }], undefined);
  assert.equal(r.diags.map((d) => [d.severity, d.code]), [['warning', 'CONFIG_GATE_IGNORED'], ['warning', 'CONFIG_GATE_IGNORED']]);
  assert.match(r.diags[0]!.summary, '"NFTablesProxyMode"');
  assert.match(r.diags[1]!.summary, '"PreferSameTrafficDistributon"');
  assert.is(r.config.featureGates['PreferSameTrafficDistribution'], true);
});

test.run();
