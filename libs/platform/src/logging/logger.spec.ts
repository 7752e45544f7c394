import { Writable } from 'node:stream';
import { createLogger } from './logger';

describe('createLogger', () => {
  it('writes structured JSON and redacts secrets and personal data', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger('policy', 'info', sink);
    log.info(
      {
        headers: { authorization: 'Bearer abc' },
        lead: { email: 'dana@example.com', status: 'New' },
      },
      'hello',
    );
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({
      level: 'info',
      service: 'policy',
      msg: 'hello',
      lead: { status: 'New' },
    });
    expect(lines[0]).not.toContain('Bearer abc');
    expect(lines[0]).not.toContain('dana@example.com');
  });
});
