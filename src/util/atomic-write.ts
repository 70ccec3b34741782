// Atomic file output: every file is written to a temporary file in the same folder, flushed to disk and renamed over
// the target, so a failed write (disk full, file size limit, a crash) leaves the earlier file as it was. A group of
// files (an output folder) is built in a sibling staging folder and swapped in at the end.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

const tmpName = (path: string) =>
  join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);

function syncDir(dir: string): void {
  // Makes the rename durable; some file systems refuse fsync on a directory, which changes nothing for correctness.
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write `data` to `path` atomically (temp file in the same folder, fsync, rename). Creates missing parent folders. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(resolve(path));
  mkdirSync(dir, { recursive: true });
  if (existsSync(path) && statSync(path).isDirectory())
    throw Object.assign(new Error(`expected a file but found a directory: ${path}`), { code: 'EISDIR', path });
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tmpName(resolve(path));
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw e;
  }
  syncDir(dir);
}

/**
 * Check, before any long work, that `path` can be written as a file: its folder exists or can be created and is
 * writable, and `path` is not a folder. Throws the same errors a real write would (EACCES, EISDIR, ENOTDIR, ...).
 */
export function checkWritableFile(path: string): void {
  if (existsSync(path) && statSync(path).isDirectory())
    throw Object.assign(new Error(`expected a file but found a directory: ${path}`), { code: 'EISDIR', path });
  checkWritableDir(dirname(resolve(path)));
}

/** Check that `dir` exists or can be created and that a file can be created in it (removed again at once). */
export function checkWritableDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw Object.assign(new Error(`expected a folder but found a file: ${dir}`), { code: 'ENOTDIR', path: dir });
  mkdirSync(dir, { recursive: true });
  const probe = tmpName(join(dir, 'probe'));
  closeSync(openSync(probe, 'wx', 0o644));
  unlinkSync(probe);
}

export function isNonEmptyDir(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).length > 0;
}

/**
 * Build a folder's content in a staging folder beside it, then put it in place: `fill(staging)` writes the files.
 * When `dir` exists and is not empty, `replace` must be true: the old folder is moved aside, the new one renamed in and
 * the old one removed; otherwise it is refused before anything is written. On any failure `dir` is left as it was.
 */
export async function writeDirAtomic(
  dir: string,
  fill: (staging: string) => void | Promise<void>,
  opts: { replace?: boolean } = {},
): Promise<void> {
  const target = resolve(dir);
  if (existsSync(target) && !statSync(target).isDirectory())
    throw Object.assign(new Error(`expected a folder but found a file: ${dir}`), { code: 'ENOTDIR', path: dir });
  if (isNonEmptyDir(target) && !opts.replace)
    throw new RangeError(`${dir} is not empty; give an empty or new folder, or --replace to replace its content`);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.new`);
  mkdirSync(staging);
  try {
    await fill(staging);
    syncDir(staging);
    if (existsSync(target)) {
      const old = join(parent, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.old`);
      renameSync(target, old);
      try {
        renameSync(staging, target);
      } catch (e) {
        renameSync(old, target);
        throw e;
      }
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(staging, target);
    }
    syncDir(parent);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}
