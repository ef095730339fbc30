"""Flink SQL of the three windowed tasks (window table-valued functions in event time).

Each task reads its own view of the shared, parsed event stream, with its own watermark
(`rowtime` = TO_TIMESTAMP_LTZ(ts, 3), watermark = highest ts - max_out_of_orderness). The session
time zone is UTC, so windows are aligned to the epoch. Window bounds are emitted as epoch ms:
windows are whole minutes, so minutes since the epoch times 60000 is exact.

Pure Python: builds strings only.
"""


def epoch_ms(column):
    return ("CAST(TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `%s`) AS BIGINT) * 60000"
            % column)


def double(value):
    return "CAST(%s AS DOUBLE)" % repr(float(value))


def interval(ms):
    assert ms % 60000 == 0 and ms > 0
    return "INTERVAL '%d' MINUTE(9)" % (ms // 60000)


def watermark_expr(max_ooo_ms):
    return "TO_TIMESTAMP_LTZ(`ts` - %d, 3)" % max_ooo_ms


def user_features_sql(view, cfg):
    return """
SELECT `tenant_id`, `user_id`, {ws} AS `window_start`, {we} AS `window_end`, `views`, `likes`, `shares`,
  CASE WHEN `n_morning` >= `n_afternoon` AND `n_morning` >= `n_evening` THEN 'morning'
       WHEN `n_afternoon` >= `n_evening` THEN 'afternoon'
       ELSE 'evening' END AS `active_period`
FROM (
  SELECT `tenant_id`, `user_id`, `window_start`, `window_end`,
    COUNT(*) FILTER (WHERE `action_type` = 'VIEW') AS `views`,
    COUNT(*) FILTER (WHERE `action_type` = 'LIKE') AS `likes`,
    COUNT(*) FILTER (WHERE `action_type` = 'SHARE') AS `shares`,
    COUNT(*) FILTER (WHERE `period` = 'morning') AS `n_morning`,
    COUNT(*) FILTER (WHERE `period` = 'afternoon') AS `n_afternoon`,
    COUNT(*) FILTER (WHERE `period` = 'evening') AS `n_evening`
  FROM TABLE(TUMBLE(TABLE `{view}`, DESCRIPTOR(`rowtime`), {size}))
  GROUP BY `tenant_id`, `user_id`, `window_start`, `window_end`
)""".format(view=view, size=interval(cfg["window_ms"]),
            ws=epoch_ms("window_start"), we=epoch_ms("window_end"))


def hot_score_sql(view, cfg):
    w = cfg["weights"]
    return """
SELECT `tenant_id`, `scenario_id`, {we_out} AS `window_end`, `item_id`, `score`, CAST(`rn` AS INT) AS `rank`
FROM (
  SELECT `tenant_id`, `scenario_id`, `window_start`, `window_end`, `item_id`, `score`,
    ROW_NUMBER() OVER (PARTITION BY `window_start`, `window_end`, `tenant_id`, `scenario_id`
                       ORDER BY `score` DESC, `item_id` ASC) AS `rn`
  FROM (
    SELECT `tenant_id`, `scenario_id`, `item_id`, `window_start`, `window_end`,
      SUM(CASE `action_type` WHEN 'VIEW' THEN {wv} WHEN 'LIKE' THEN {wl} ELSE {ws} END
          * POWER({two}, CAST(`ts` - {we} AS DOUBLE) / {half_life})) AS `score`
    FROM TABLE(HOP(TABLE `{view}`, DESCRIPTOR(`rowtime`), {slide}, {size}))
    WHERE `action_type` IN ('VIEW', 'LIKE', 'SHARE')
    GROUP BY `tenant_id`, `scenario_id`, `item_id`, `window_start`, `window_end`
  )
)
WHERE `rn` <= {top_n}""".format(
        view=view, size=interval(cfg["window_ms"]), slide=interval(cfg["slide_ms"]),
        wv=double(w["VIEW"]), wl=double(w["LIKE"]), ws=double(w["SHARE"]), two=double(2),
        half_life=double(cfg["half_life_ms"]), top_n=int(cfg["top_n"]),
        we=epoch_ms("window_end"), we_out=epoch_ms("window_end"))


def metrics_sql(view, cfg):
    return """
SELECT `tenant_id`, `scenario_id`, {ws} AS `window_start`, {we} AS `window_end`, `impressions`, `clicks`,
  CASE WHEN `impressions` = 0 THEN 0.0E0 ELSE CAST(`clicks` AS DOUBLE) / `impressions` END AS `ctr`,
  CASE WHEN `n_duration` = 0 THEN 0.0E0 ELSE `sum_duration` / `n_duration` END AS `avg_watch_time`,
  CASE WHEN `n_progress` = 0 THEN 0.0E0 ELSE CAST(`n_complete` AS DOUBLE) / `n_progress` END AS `completion_rate`
FROM (
  SELECT `tenant_id`, `scenario_id`, `window_start`, `window_end`,
    COUNT(*) FILTER (WHERE `action_type` = 'IMPRESSION') AS `impressions`,
    COUNT(*) FILTER (WHERE `action_type` = 'CLICK') AS `clicks`,
    COUNT(*) FILTER (WHERE `action_type` = 'VIEW' AND `duration` IS NOT NULL) AS `n_duration`,
    SUM(`duration`) FILTER (WHERE `action_type` = 'VIEW' AND `duration` IS NOT NULL) AS `sum_duration`,
    COUNT(*) FILTER (WHERE `action_type` = 'VIEW' AND `progress` IS NOT NULL) AS `n_progress`,
    COUNT(*) FILTER (WHERE `action_type` = 'VIEW' AND `progress` >= {complete_at}) AS `n_complete`
  FROM TABLE(TUMBLE(TABLE `{view}`, DESCRIPTOR(`rowtime`), {size}))
  GROUP BY `tenant_id`, `scenario_id`, `window_start`, `window_end`
)""".format(view=view, size=interval(cfg["window_ms"]), complete_at=double(cfg["complete_at"]),
            ws=epoch_ms("window_start"), we=epoch_ms("window_end"))


TASK_SQL = {
    "user-realtime-features": user_features_sql,
    "item-hot-score": hot_score_sql,
    "recommendation-metrics": metrics_sql,
}

# Key of the rows each windowed task hands to its sink writer (rows of one key stay in order).
TASK_KEY_FIELDS = {
    "user-realtime-features": ("tenant_id", "user_id"),
    "item-hot-score": ("tenant_id", "scenario_id"),
    "recommendation-metrics": ("tenant_id", "scenario_id"),
}
