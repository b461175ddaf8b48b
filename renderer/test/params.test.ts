// The Kernels table's short form of what a kernel was started with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactParams, fullParams } from '../src/util/params';

test('memory, CPUs, GPUs and image in a few words; the rest counted', () => {
  const p = {
    KERNEL_MEMORY: '4G',
    KERNEL_CPUS: '2',
    KERNEL_GPUS: '1',
    KERNEL_IMAGE: 'quay.io/jupyter/scipy-notebook:2024',
    KERNEL_LAUNCH_TIMEOUT: '60',
    KERNEL_NAMESPACE: 'team',
  };
  assert.equal(compactParams(p), '4G · 2 CPUs · 1 GPU · scipy-notebook:2024 · +1 more');
  assert.equal(compactParams({ KERNEL_LAUNCH_TIMEOUT: '60' }), '');
  assert.equal(compactParams(undefined), '');
  assert.equal(fullParams({ KERNEL_MEMORY: '4G', KERNEL_GPUS: '1' }), 'KERNEL_MEMORY=4G\nKERNEL_GPUS=1');
});
