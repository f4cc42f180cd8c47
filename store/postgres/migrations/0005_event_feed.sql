-- 5: the event feed. seq is taken when an event is written, so a process
-- reading by seq may see 12 committed before 11. pos is the event's place
-- in the feed, given after commit by one process at a time (the
-- sequencer, see feed.go), in the order events became visible: a reader
-- following pos never skips one. Events already committed keep their seq
-- as pos.
ALTER TABLE {s}.events ADD COLUMN pos bigint;
UPDATE {s}.events SET pos = seq;
CREATE UNIQUE INDEX events_pos ON {s}.events (pos);
CREATE INDEX events_unsequenced ON {s}.events (seq) WHERE pos IS NULL;
