package postgres

import "context"

// SequencerRuns returns how many runs of the feed's sequencer the store
// has started, paced or forced (FeedHead), for the tests of pacing.
func (s *Store) SequencerRuns() int64 { return s.seqr.runs.Load() }

// MigrateAttempts returns how many times the store began to run a
// migration, attempts that timed out waiting for a lock included.
func (s *Store) MigrateAttempts() int64 { return s.migrateAttempts.Load() }

// MigrateTo brings the schema up to version n, as a release that knew n
// migrations would: the tests make older schemas with it.
func (s *Store) MigrateTo(ctx context.Context, n int) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return s.migrateTo(ctx, ms, n)
}
