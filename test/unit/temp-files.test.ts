import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { currentProcess } from '../../src/core/store/process-identity';
import { tempLiveness, uniqueTempName } from '../../src/core/store/temp-files';

/** A temp name as qm wrote it until December 2026: host and space tags from SHA-256. */
function legacyName(host: string, space: string, pid: number, startTime: number): string {
  const sha8 = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${sha8(host)}-${sha8(space)}.${pid}.${startTime}.0123456789abcdef.lease`;
}

describe('temp names: whose they are', () => {
  const me = currentProcess();
  const space = `${me.bootId}/${me.pidNs}`;
  // A PID that is certainly gone: a child that has exited and been reaped.
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;

  it('names this version makes are judged by PID on this host and nowhere else', () => {
    assert.equal(tempLiveness(uniqueTempName('lease', me), me), 'alive');
    assert.equal(tempLiveness(uniqueTempName('lease', { ...me, pid: gone, startTime: 1 }), me), 'dead');
    assert.equal(tempLiveness(uniqueTempName('lease', { ...me, host: 'elsewhere', bootId: 'other-boot' }), me), 'unknown');
  });

  it('names an earlier version made (SHA-256 tags) are judged by PID too, not taken for another host', { skip: me.bootId === undefined || me.pidNs === undefined }, () => {
    assert.equal(tempLiveness(legacyName(me.host, space, me.pid, me.startTime ?? 0), me), 'alive');
    assert.equal(tempLiveness(legacyName(me.host, space, gone, 1), me), 'dead', 'a dead old lease is swept');
    assert.equal(tempLiveness(legacyName('elsewhere', 'other-boot/1', gone, 1), me), 'unknown');
  });
});
