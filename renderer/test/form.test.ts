// The cluster form's conversion to the contract's input, for the gateway kind's fields as the host API lists
// them: numbers, key/value rows, and the secret rules (empty keeps a saved token, "remove" clears it, a new
// value replaces it), checked by the one validator (the main process's, which the form shows the field
// errors of).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clusterKinds } from '../../electron/clusters/kinds';
import { checkClusterInput as validateClusterInput } from '../../electron/clusters/kinds/input';
import type { ClusterKindInfo } from '../../electron/host-api/models';
import { formFor, toInput, type FormState } from '../src/components/cluster-form-model';

const gateway = clusterKinds.info().find((k) => k.kind === 'gateway') as ClusterKindInfo;

/** The empty gateway form with some inputs typed in. */
function typed(name: string, text: Record<string, string>, more: Partial<FormState> = {}): FormState {
  const f = formFor(gateway, name);
  return { ...f, ...more, text: { ...f.text, ...text } };
}

describe('cluster form', () => {
  test('a filled form becomes a valid gateway input', () => {
    const f = typed(' University ', {
      url: 'https://gw.example.edu:8888/base ',
      authToken: 'tok',
      envAllowlist: 'SPARK_OPTS, MY_PROJECT',
      launchTimeoutSec: '60',
      requestTimeoutSec: '80',
    });
    f.pairs.extraHeaders = [
      { key: 'X-Team', value: 'ml' },
      { key: ' ', value: 'ignored' },
    ];
    f.pairs.launchParams = [{ key: 'KERNEL_CPUS', value: '2' }];
    const input = toInput(gateway, f);
    assert.equal(input.name, 'University');
    assert.equal(input.settings?.url, 'https://gw.example.edu:8888/base');
    assert.equal(input.settings?.authToken, 'tok');
    assert.deepEqual(input.settings?.extraHeaders, { 'X-Team': 'ml' });
    assert.deepEqual(input.settings?.launchParams, { KERNEL_CPUS: '2' });
    assert.deepEqual(input.settings?.envAllowlist, ['SPARK_OPTS', 'MY_PROJECT']);
    assert.deepEqual(validateClusterInput(input), {});
  });

  test('secrets: empty keeps a saved one, "remove" clears it, no saved one means none', () => {
    const saved = formFor(gateway, 'U', { url: 'http://gw' }, { authToken: true, httpPassword: true });
    assert.equal(toInput(gateway, saved).settings?.authToken, undefined);
    assert.equal(toInput(gateway, saved).settings?.httpPassword, undefined);
    assert.equal(
      toInput(gateway, { ...saved, clear: { ...saved.clear, authToken: true } }).settings?.authToken,
      '',
    );
    assert.equal(toInput(gateway, typed('U', { url: 'http://gw' })).settings?.authToken, '');
  });

  test('bad fields are reported per field', () => {
    const f = typed('', { url: 'gw.example.edu', connectTimeoutSec: 'abc', envAllowlist: '1BAD' });
    f.pairs.launchParams = [{ key: 'cpus', value: '2' }];
    const e = validateClusterInput(toInput(gateway, f));
    assert.deepEqual(Object.keys(e).sort(), [
      'connectTimeoutSec',
      'envAllowlist',
      'launchParams',
      'name',
      'url',
    ]);
  });
});
