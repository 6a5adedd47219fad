-- The sqlite case (xtask/src/test.rs): Debian's sqlite3 shell runs this in
-- a directory of its own, on the host and in Lstar, and the two outputs
-- must be equal. It prints nothing that differs between runs: no times,
-- no random values, no paths, and nothing on stderr (which, unbuffered,
-- would land elsewhere among stdout's lines on the host's pipe). A second
-- process (`.system ./sqlite3 …`, through /bin/sh) works on the same
-- database while this one holds it; what it prints goes to a file that
-- this one reads back, so that the two never share the output.

.headers on
.print == rollback journal
PRAGMA journal_mode = DELETE;
PRAGMA page_size;
CREATE TABLE dept(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE emp(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  dept INTEGER REFERENCES dept(id),
  salary INTEGER,
  hired TEXT
);
CREATE INDEX emp_dept ON emp(dept);
INSERT INTO dept(name) VALUES ('kernel'), ('servers'), ('tools'), ('docs');
INSERT INTO emp(name, dept, salary, hired) VALUES
  ('ada', 1, 120, '2019-03-01'),
  ('brian', 1, 95, '2020-07-15'),
  ('carol', 2, 105, '2018-11-30'),
  ('dennis', 2, 88, '2021-01-04'),
  ('edsger', 3, 99, '2017-05-20'),
  ('frances', NULL, 70, '2022-09-09');
UPDATE emp SET salary = salary + 5 WHERE dept = 2;
DELETE FROM dept WHERE name = 'docs';
SELECT e.name, d.name AS dept, e.salary FROM emp e LEFT JOIN dept d ON d.id = e.dept ORDER BY e.id;
SELECT d.name, count(*) AS n, sum(e.salary) AS total, avg(e.salary) AS mean, max(e.salary) AS top
  FROM emp e JOIN dept d ON d.id = e.dept GROUP BY d.id HAVING n > 1 ORDER BY total DESC;

.print == transactions
BEGIN;
INSERT INTO emp(name, dept, salary) VALUES ('ghost', 1, 1);
UPDATE emp SET salary = 0;
SELECT count(*), sum(salary) FROM emp;
ROLLBACK;
SELECT count(*), sum(salary) FROM emp;
BEGIN;
SAVEPOINT a;
DELETE FROM emp WHERE dept = 1;
ROLLBACK TO a;
INSERT INTO emp(name, dept, salary, hired) VALUES ('grace', 3, 130, '2016-12-09');
RELEASE a;
COMMIT;
SELECT group_concat(name, ',') FROM (SELECT name FROM emp ORDER BY name);

.print == recursive CTE, printf, dates
WITH RECURSIVE fib(n, a, b) AS (SELECT 1, 0, 1 UNION ALL SELECT n + 1, b, a + b FROM fib WHERE n < 15)
  SELECT group_concat(a, ' ') FROM fib;
WITH RECURSIVE tree(id, path) AS (
  SELECT id, name FROM dept WHERE id = 1
  UNION ALL SELECT e.id + 100, tree.path || '/' || e.name FROM emp e JOIN tree ON e.dept = tree.id
) SELECT path FROM tree ORDER BY path;
SELECT printf('%5.2f|%-6s|%08x|%+d|%e|%q', 3.14159, 'ab', 48879, 42, 12345.678, 'it''s');
SELECT strftime('%Y-%m-%d %H:%M:%S %j %w', '2024-02-29 13:45:07', '+1 year'),
       date('2000-01-31', '+1 month'), julianday('2000-01-01 12:00:00'),
       strftime('%s', '2023-06-15 00:00:00'), datetime(1700000000, 'unixepoch');
SELECT name, hired, CAST(julianday('2024-01-01') - julianday(hired) AS INTEGER) AS days
  FROM emp WHERE hired IS NOT NULL ORDER BY hired;

.print == a few thousand rows
CREATE TABLE big(x INTEGER PRIMARY KEY, label TEXT, v INTEGER, pad BLOB);
INSERT INTO big
  WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
  SELECT x, printf('row%05d', x), (x * 7919) % 1000, zeroblob(100 + x % 200) FROM c;
CREATE INDEX big_v ON big(v);
SELECT count(*), sum(v), min(label), max(label), sum(length(pad)) FROM big;
SELECT v, count(*) FROM big WHERE v BETWEEN 10 AND 14 GROUP BY v;
DELETE FROM big WHERE x % 3 = 0;
UPDATE big SET label = upper(label) WHERE x % 7 = 0;
SELECT count(*), sum(v), max(label) FROM big;
PRAGMA page_count;
PRAGMA freelist_count;
VACUUM;
PRAGMA page_count;
PRAGMA freelist_count;
PRAGMA integrity_check;

.print == attached database, one transaction over two files
ATTACH 'other.db' AS other;
CREATE TABLE other.log(n INTEGER, what TEXT);
BEGIN;
INSERT INTO other.log VALUES (1, 'first');
UPDATE emp SET salary = salary + 1 WHERE name = 'ada';
COMMIT;
SELECT (SELECT salary FROM emp WHERE name = 'ada'), (SELECT what FROM other.log);
DETACH other;

.print == dump
.dump dept emp

.print == reopened
.open test.db
SELECT count(*), sum(v) FROM big;
SELECT name, salary FROM emp ORDER BY salary DESC LIMIT 3;
PRAGMA integrity_check;

.print == a second process, rollback journal
BEGIN IMMEDIATE;
INSERT INTO dept(name) VALUES ('held');
.system ./sqlite3 -batch test.db "SELECT count(*) FROM dept; INSERT INTO dept(name) VALUES ('other');" > second.txt 2>&1; true
SELECT CAST(readfile('second.txt') AS TEXT);
COMMIT;
.system ./sqlite3 -batch test.db "INSERT INTO dept(name) VALUES ('other'); SELECT group_concat(name) FROM dept;" > second.txt 2>&1; true
SELECT CAST(readfile('second.txt') AS TEXT);
DELETE FROM dept WHERE name IN ('held', 'other');

.print == write-ahead log
PRAGMA journal_mode = WAL;
INSERT INTO emp(name, dept, salary, hired) VALUES ('ken', 1, 111, '2015-01-01');
BEGIN;
DELETE FROM big;
SELECT count(*) FROM big;
ROLLBACK;
UPDATE big SET v = v + 1 WHERE x <= 1000;
SELECT count(*), sum(v) FROM big;
PRAGMA wal_checkpoint(TRUNCATE);
BEGIN;
UPDATE big SET v = 0;
.system ./sqlite3 -batch test.db "SELECT count(*), sum(v) FROM big; DELETE FROM big;" > second.txt 2>&1; true
SELECT CAST(readfile('second.txt') AS TEXT);
ROLLBACK;
INSERT INTO dept(name) VALUES ('ops');
.open test.db
PRAGMA journal_mode;
SELECT count(*), sum(v) FROM big;
SELECT name FROM dept ORDER BY id;
PRAGMA journal_mode = DELETE;

.print == memory-mapped reads
PRAGMA mmap_size = 4194304;
SELECT count(*), sum(v), sum(length(label)) FROM big;
SELECT label FROM big WHERE v = 999 ORDER BY x;
PRAGMA integrity_check;
.print == done
