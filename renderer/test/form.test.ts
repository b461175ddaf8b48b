// The cluster form's conversion to the contract's input: numbers, key/value rows, and the secret rules
// (empty keeps a saved token, "remove" clears it, a new value replaces it), checked by the one validator (the main process's, which the form shows the field errors of).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkClusterInput as validateClusterInput } from '../../electron/clusters/kinds/input';
import { emptyForm, toInput } from '../src/components/cluster-form-model';

describe('cluster form', () => {
  test('a filled form becomes a valid gateway input', () => {
    const input = toInput({
      ...emptyForm(),
      name: ' University ',
      url: 'https://gw.example.edu:8888/base ',
      authToken: 'tok',
      headers: [
        { key: 'X-Team', value: 'ml' },
        { key: ' ', value: 'ignored' },
      ],
      launchParams: [{ key: 'KERNEL_CPUS', value: '2' }],
      envAllowlist: 'SPARK_OPTS, MY_PROJECT',
      launchTimeoutSec: '60',
      requestTimeoutSec: '80',
    });
    assert.equal(input.name, 'University');
    assert.equal(input.gateway?.url, 'https://gw.example.edu:8888/base');
    assert.equal(input.gateway?.authToken, 'tok');
    assert.deepEqual(input.gateway?.extraHeaders, { 'X-Team': 'ml' });
    assert.deepEqual(input.gateway?.launchParams, { KERNEL_CPUS: '2' });
    assert.deepEqual(input.gateway?.envAllowlist, ['SPARK_OPTS', 'MY_PROJECT']);
    assert.deepEqual(validateClusterInput(input), {});
  });

  test('secrets: empty keeps a saved one, "remove" clears it, no saved one means none', () => {
    const saved = { ...emptyForm(), name: 'U', url: 'http://gw', hasAuthToken: true, hasHttpPassword: true };
    assert.equal(toInput(saved).gateway?.authToken, undefined);
    assert.equal(toInput(saved).gateway?.httpPassword, undefined);
    assert.equal(toInput({ ...saved, clearToken: true }).gateway?.authToken, '');
    assert.equal(toInput({ ...emptyForm(), name: 'U', url: 'http://gw' }).gateway?.authToken, '');
  });

  test('bad fields are reported per field', () => {
    const e = validateClusterInput(
      toInput({
        ...emptyForm(),
        name: '',
        url: 'gw.example.edu',
        connectTimeoutSec: 'abc',
        launchParams: [{ key: 'cpus', value: '2' }],
        envAllowlist: '1BAD',
      }),
    );
    assert.deepEqual(Object.keys(e).sort(), [
      'connectTimeoutSec',
      'envAllowlist',
      'launchParams',
      'name',
      'url',
    ]);
  });
});
