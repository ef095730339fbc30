-- flinkops sql job fixture: streaming mode (the default), a bounded datagen source of 3 rows into
-- the print sink; the job ends when the source does.
CREATE TEMPORARY TABLE ticks (n BIGINT) WITH (
  'connector' = 'datagen', 'number-of-rows' = '3',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '3'
);
CREATE TEMPORARY TABLE out_print (n BIGINT, label STRING) WITH ('connector' = 'print', 'print-identifier' = '${tag}');
EXECUTE STATEMENT SET BEGIN
  INSERT INTO out_print SELECT n, 'tick;' || CAST(n AS STRING) FROM ticks;
END;
