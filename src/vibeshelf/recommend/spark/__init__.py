"""ALS training on Spark MLlib (`vibeshelf train recs --engine spark`), writing the usual model directory."""
