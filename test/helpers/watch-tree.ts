// Child process: watches a toolchain directory in a tight loop from the moment it first appears
// with a receipt, and on a line on stdin reports {"looks","absent","inodes"}: how many times it
// looked, how many of those found the tree (or its receipt) missing, and every inode it had.
// Argv: dir
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

const dir = process.argv[2]!;
const receipt = path.join(dir, '.qm-receipt.json');
let looks = 0;
let absent = 0;
const inodes = new Set<number>();
let stopped = false;

function look(): void {
  for (let i = 0; i < 500; i++) {
    try {
      const ino = fs.statSync(dir).ino;
      fs.statSync(receipt);
      inodes.add(ino);
      looks++;
    } catch {
      if (inodes.size > 0) {
        absent++;
        looks++;
      }
    }
  }
  if (!stopped) setImmediate(look);
}

readline.createInterface({ input: process.stdin }).once('line', () => {
  stopped = true;
  process.stdout.write(`${JSON.stringify({ looks, absent, inodes: [...inodes] })}\n`);
  process.exit(0);
});
process.stdout.write(`${JSON.stringify({ watching: dir })}\n`);
look();
