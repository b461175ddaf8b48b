// Proves `npm run bench -- --quick` works end to end. Asserts only that it completes and that its figures
// are sane (non-zero, every byte checked), never a speed: speed lives in the benchmark's report.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sshdAvailable } from '../testing/sshd';
import { dockerdUnavailable } from '../testing/dockerd';

const root = new URL('../..', import.meta.url).pathname;

test('npm run bench -- --quick completes with sane figures for every path', { timeout: 600000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gd-bench-test-'));
  try {
    const json = join(dir, 'bench.json');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/bench/bench.ts', '--quick', '--json', json],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 580000,
      },
    );
    assert.equal(r.status, 0, `bench failed:\n${r.stderr.slice(-4000)}`);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      paths: {
        path: string;
        execute_rtt_ms_median: number;
        throughput_mb_per_s: number;
        throughput_bytes_checked: number;
        kernel_start_ms_median: number;
      }[];
      proxy: { rss_with_idle_kernels_mb: number; fanout_all_bytes_received: boolean };
      ratios: Record<string, unknown>;
      ssh:
        | {
            kernel_start_ms_median: number;
            first_start_on_host_ms: number;
            launcher_uploaded: boolean;
            cipher: string;
          }
        | { skipped: string }
        | null;
      docker:
        | { kernel_start_ms_median: number; start_phases_ms: Record<string, number> }
        | { skipped: string }
        | null;
    };
    const names = report.paths.map((p) => p.path);
    // The ssh path needs an sshd; without one the run says why it skipped it.
    const ssh = sshdAvailable();
    // The docker path needs a dockerd it may start (root); without one the run says why it skipped it.
    const docker = dockerdUnavailable() === null;
    const expected = ['direct', 'proxy', 'proxy_v1', 'jupyter_server', 'lab_path', 'relay'];
    for (const want of [...expected, ...(ssh ? ['ssh'] : []), ...(docker ? ['docker'] : [])]) {
      assert.ok(
        names.includes(want),
        `path ${want} missing from ${names.join(', ')}:\n${r.stderr.slice(-3000)}`,
      );
    }
    for (const p of report.paths) {
      assert.ok(p.execute_rtt_ms_median > 0 && p.kernel_start_ms_median > 0, `${p.path}: zero timing`);
      assert.ok(
        p.throughput_mb_per_s > 0 && p.throughput_bytes_checked >= 4 * 1024 * 1024,
        `${p.path}: bytes`,
      );
    }
    assert.ok(report.proxy.rss_with_idle_kernels_mb > 0);
    assert.equal(report.proxy.fanout_all_bytes_received, true);
    assert.ok(report.ratios.proxy_vs_direct && report.ratios.relay_vs_upstream);
    if (ssh) {
      assert.ok(report.ssh && !('skipped' in report.ssh), `ssh not measured: ${JSON.stringify(report.ssh)}`);
      // The first start on the host uploaded the launcher (it was deleted first) and took a positive time.
      assert.equal(report.ssh.launcher_uploaded, true);
      assert.ok(report.ssh.first_start_on_host_ms > 0 && report.ssh.kernel_start_ms_median > 0);
      assert.ok(report.ssh.cipher.length > 0);
      assert.ok(report.ratios.ssh_vs_direct, 'no ssh_vs_direct ratios');
    } else {
      assert.ok(report.ssh && 'skipped' in report.ssh && report.ssh.skipped.length > 0);
      assert.match(r.stderr, /skipped ssh: /);
    }
    if (docker) {
      assert.ok(
        report.docker && !('skipped' in report.docker),
        `docker not measured: ${JSON.stringify(report.docker)}`,
      );
      // The engine's own steps were seen (the container was created and started) and took positive time.
      assert.ok(report.docker.start_phases_ms.created! > 0 && report.docker.start_phases_ms.started! > 0);
      assert.ok(report.ratios.docker_vs_direct, 'no docker_vs_direct ratios');
    } else {
      assert.ok(report.docker && 'skipped' in report.docker && report.docker.skipped.length > 0);
      assert.match(r.stderr, /skipped docker: /);
    }
    assert.match(r.stdout, /\| path\s+\| start ms/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
