#!/usr/bin/php
<?php
/*
 * submit.php - put one job into a spoold spool by the Maildir rule (PHP CLI,
 * PHP 8.1 or later for fsync()).
 *
 * Usage: php submit.php SPOOL_DIR JOB.json      (prints the job's NAME)
 *
 * Or from a scheduler written in PHP:
 *
 *     require 'submit.php';
 *     $name = spool_submit('/var/spool/spoold', json_encode($job));
 *
 * The rule (README, "How a scheduler submits a job"), so that spoold never
 * reads a half-written job:
 *
 *   1. create SPOOL_DIR/tmp/NAME with fopen mode 'x' (O_CREAT|O_EXCL) under
 *      a NAME no other writer uses (the time, the process, the host and a
 *      counter; tried again on a clash);
 *   2. fwrite the job, fflush and fsync it, fclose it;
 *   3. rename it into SPOOL_DIR/new/ (the same file system: one rename(2),
 *      so the job appears whole or not at all);
 *   4. fsync SPOOL_DIR/new itself, so that the rename survives a crash
 *      (fopen of a directory works on Linux; elsewhere this step is skipped).
 *
 * Only a light check is made here (a JSON object of at most 64 KiB); `spool
 * submit` checks a job exactly as spoold will, and spoold moves a file that
 * is not a valid job to corrupt/ with the reason.
 *
 * Exit status: 0 done; 64 usage; 65 not a JSON object or too large; 66 the
 * job file cannot be read; 73 cannot create in tmp/; 74 cannot write, sync
 * or rename.
 */

const SPOOL_JOB_MAX_SIZE = 65536;

class SpoolSubmitError extends RuntimeException
{
}

/* spool_unique_name - seconds.Mmicroseconds.Ppid.Qcounter.host */
function spool_unique_name(): string
{
    static $counter = 0;
    $host = preg_replace('/[^A-Za-z0-9.-]/', '-', (string)gethostname());
    [$usec, $sec] = explode(' ', microtime());
    return sprintf('%d.M%06dP%dQ%d.%s', (int)$sec, (int)((float)$usec * 1e6), getmypid(),
        ++$counter, $host !== '' ? $host : 'localhost');
}

/* spool_submit - put the job (a string) into the spool; its name */
function spool_submit(string $spool, string $data): string
{
    if (strlen($data) > SPOOL_JOB_MAX_SIZE) {
        throw new SpoolSubmitError('larger than 64 KiB (' . strlen($data) . ' bytes)', 65);
    }
    $decoded = json_decode($data);
    if (!is_object($decoded)) {
        throw new SpoolSubmitError('not a JSON object', 65);
    }
    $fp = false;
    for ($i = 0; $i < 100 && $fp === false; $i++) {
        $name = spool_unique_name();
        $tmp = "$spool/tmp/$name";
        $fp = @fopen($tmp, 'x');
    }
    if ($fp === false) {
        throw new SpoolSubmitError("cannot create a file in $spool/tmp/", 73);
    }
    $ok = true;
    for ($off = 0; $ok && $off < strlen($data); $off += $n) {
        $n = fwrite($fp, substr($data, $off));
        $ok = $n !== false && $n > 0;
    }
    $ok = $ok && fflush($fp) && fsync($fp);
    $ok = fclose($fp) && $ok;
    $new = "$spool/new/$name";
    if (!$ok || file_exists($new) || !rename($tmp, $new)) {
        @unlink($tmp);
        throw new SpoolSubmitError("cannot write, sync or rename $tmp into $spool/new/", 74);
    }
    $dir = @fopen("$spool/new", 'r');
    if ($dir !== false) {
        fsync($dir);
        fclose($dir);
    }
    return $name;
}

/* spool_submit_main - the command line */
function spool_submit_main(array $argv): int
{
    if (count($argv) !== 3) {
        fwrite(STDERR, "usage: submit.php SPOOL_DIR JOB.json\n");
        return 64;
    }
    [, $spool, $path] = $argv;
    $data = @file_get_contents($path, false, null, 0, SPOOL_JOB_MAX_SIZE + 1);
    if ($data === false) {
        fwrite(STDERR, "submit.php: $path: cannot read the job\n");
        return 66;
    }
    try {
        echo spool_submit($spool, $data), "\n";
        return 0;
    } catch (SpoolSubmitError $e) {
        fwrite(STDERR, "submit.php: $path: " . $e->getMessage() . "\n");
        return $e->getCode();
    }
}

if (PHP_SAPI === 'cli' && realpath($_SERVER['SCRIPT_FILENAME'] ?? '') === __FILE__) {
    exit(spool_submit_main($argv));
}
