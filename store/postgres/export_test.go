package postgres

// SequencerRuns returns how many runs of the feed's sequencer the store
// has started, paced or forced (FeedHead), for the tests of pacing.
func (s *Store) SequencerRuns() int64 { return s.seqr.runs.Load() }
