package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

var (
	_ port.TimerTx       = (*txn)(nil)
	_ port.OutboxClaimTx = (*txn)(nil)
)

// Timers are claimed rather than elected: each claim is one statement
// reading the first row of a partial index on the due time, locking it
// FOR UPDATE SKIP LOCKED, so instances running Tick at once take
// different rows and none waits for another. A row another transaction
// re-wrote after the statement began is checked again against the WHERE
// clause (READ COMMITTED), so a timer handled elsewhere is not claimed.

// The claims, each the first row of a partial index on its due time
// (TestClaimsReadIndexes checks the plans).
const (
	claimOfferSQL = `SELECT data, version FROM {s}.interactions
		WHERE state IN ('offered', 'transferred') AND offered_at <= $1 AND id <> ALL($2)
		ORDER BY offered_at LIMIT 1 FOR UPDATE SKIP LOCKED`
	claimPreferenceSQL = `SELECT data, version FROM {s}.interactions
		WHERE state = 'queued' AND preferred <> '' AND prefer_until <= $1 AND id <> ALL($2)
		ORDER BY prefer_until LIMIT 1 FOR UPDATE SKIP LOCKED`
	claimDeclinedSQL = `SELECT data, version FROM {s}.interactions
		WHERE state = 'queued' AND cardinality(declined) > 0 AND id <> ALL($1)
		ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`
	claimOutboxSQL = `SELECT data, raw FROM {s}.outbox
		WHERE state = 'pending' AND next_attempt <= $1
		ORDER BY next_attempt, id LIMIT 1 FOR UPDATE SKIP LOCKED`
)

// claimInteraction runs q, a SELECT of data and version … LIMIT 1 FOR
// UPDATE SKIP LOCKED, and returns the interaction it locked, or nil.
func (t *txn) claimInteraction(ctx context.Context, what, q string, args ...any) (*interaction.Interaction, error) {
	if err := t.writable(); err != nil {
		return nil, err
	}
	var data []byte
	var version int64
	err := t.tx.QueryRow(ctx, t.s.sql(q), args...).Scan(&data, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(what, err)
	}
	it, err := decodeInteraction(data, version)
	if err != nil {
		return nil, err
	}
	t.noteRead(it)
	return it, nil
}

// ClaimDueOffer implements port.TimerTx, on the index
// interactions_offer_due (offered_at) WHERE state IN ('offered',
// 'transferred').
func (t *txn) ClaimDueOffer(ctx context.Context, offeredBefore time.Time, skip []string) (*interaction.Interaction, error) {
	return t.claimInteraction(ctx, "claim due offer", claimOfferSQL, utc(offeredBefore), nonNil(skip))
}

// ClaimExpiredPreference implements port.TimerTx, on the index
// interactions_prefer_due (prefer_until) of the queued interactions
// kept for a preferred agent.
func (t *txn) ClaimExpiredPreference(ctx context.Context, now time.Time, skip []string) (*interaction.Interaction, error) {
	return t.claimInteraction(ctx, "claim expired preference", claimPreferenceSQL, utc(now), nonNil(skip))
}

// ClaimDeclined implements port.TimerTx, on the index
// interactions_declined (id) WHERE state = 'queued' AND
// cardinality(declined) > 0.
func (t *txn) ClaimDeclined(ctx context.Context, skip []string) (*interaction.Interaction, error) {
	return t.claimInteraction(ctx, "claim declined", claimDeclinedSQL, nonNil(skip))
}

// ClaimOutbox implements port.OutboxClaimTx, on the index outbox_due
// (next_attempt, id) WHERE state = 'pending'.
func (t *txn) ClaimOutbox(ctx context.Context, now time.Time) (*port.OutboxItem, error) {
	if err := t.writable(); err != nil {
		return nil, err
	}
	var data, raw []byte
	err := t.tx.QueryRow(ctx, t.s.sql(claimOutboxSQL), utc(now)).Scan(&data, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr("claim outbox", err)
	}
	o, err := decodeOutbox(data, raw)
	if err == nil {
		t.holdOutbox(o.ID, raw)
	}
	return o, err
}

// nonNil returns ids, or an empty list for nil: id <> ALL(NULL) is NULL,
// which would match nothing.
func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
