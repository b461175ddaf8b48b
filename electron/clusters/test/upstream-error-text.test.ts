// What a person reads when a gateway refuses: the gateway's own words, never a traceback header or a page of HTML.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { upstreamErrorText } from '../gateway/client';

describe('upstreamErrorText', () => {
  test('a Jupyter Server "Unhandled error" gives the traceback line that names the cause', () => {
    const body = JSON.stringify({
      message: 'Unhandled error',
      reason: null,
      traceback:
        'Traceback (most recent call last):\n  File "x.py", line 1, in post\n' +
        "FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/bin/python9'\n",
    });
    assert.equal(
      upstreamErrorText(Buffer.from(body)),
      "FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/bin/python9'",
    );
  });

  test('message and reason are kept when they say something', () => {
    const body = JSON.stringify({ message: 'Kernel limit reached', reason: 'Forbidden', traceback: 'x' });
    assert.equal(upstreamErrorText(Buffer.from(body)), 'Kernel limit reached: Forbidden');
  });

  test('an HTML page becomes its title and heading', () => {
    const html =
      '<!DOCTYPE HTML>\n<html><head><title>Jupyter Server</title><style>p{}</style></head>' +
      '<body><div class="error"><h1>404 : Not Found</h1><p>You are requesting a page that does not exist!</p></div></body></html>';
    assert.equal(upstreamErrorText(Buffer.from(html)), 'Jupyter Server: 404 : Not Found');
  });
});
