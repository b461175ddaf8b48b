// How the UI names a kernel's place: an environment with its cluster, once (SSH and Docker environments already
// say "on <cluster>" in their display names; the console's picker said it twice).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onCluster } from '../src/stores/clusters';

test('an environment is named with its cluster once', () => {
  assert.equal(onCluster('Python 3 (ipykernel)', 'University'), 'Python 3 (ipykernel) on University');
  assert.equal(onCluster('Python 3 on Laptop Docker', 'Laptop Docker'), 'Python 3 on Laptop Docker');
  assert.equal(onCluster('python3', 'This computer'), 'python3 on This computer');
});
