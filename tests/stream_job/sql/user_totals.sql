-- flinkops sql job fixture (tests/stream_job/test_sql_runner.py): a bounded CSV of orders into
-- two filesystem sinks by two INSERTs, which sql_runner.py submits as ONE job; a ';' here does not split.
SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '1';

CREATE TEMPORARY TABLE orders (
  order_id STRING,
  user_id STRING,
  amount DOUBLE,
  note STRING
) WITH (
  'connector' = 'filesystem',
  'path' = '${input}',
  'format' = 'csv'
);

/* per user: orders and total amount; written as JSON lines (a ';' in a block comment) */
CREATE TEMPORARY TABLE `user_totals` (`user_id` STRING, `orders` BIGINT, `total` DOUBLE)
WITH ('connector' = 'filesystem', 'path' = '${out}/user_totals', 'format' = 'json');

CREATE TEMPORARY TABLE flagged (order_id STRING, note STRING, tag STRING)
WITH ('connector' = 'filesystem', 'path' = '${out}/flagged', 'format' = 'json');

INSERT INTO `user_totals`
SELECT user_id, COUNT(*), SUM(amount) FROM orders GROUP BY user_id;

INSERT INTO flagged   -- notes with a ';' or a quote in them
SELECT order_id, note, 'semi;colon' FROM orders WHERE note LIKE '%;%' OR note LIKE '%''%';
