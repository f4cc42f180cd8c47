package storetest

import (
	"context"
	"net/mail"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/sla"
)

// newFunc makes an empty store for one subtest.
type newFunc = func(t *testing.T) emailflow.Store

// Run checks that the stores newStore makes follow the contract of
// emailflow.Store and emailflow.Tx, and of emailflow.Directory when they
// implement it; its Intake group takes mail in through a Workspace on the
// store (hostile bytes, duplicates, deep nesting, threading), so what
// Ingest accepted must be findable, whole, and its Classification group
// mail that is not a customer writing (bounces, automatic answers,
// quarantine, sender lists and rate counters shared by two Workspaces), and its Desk group what
// an agent's desk reads (the inbox in one read transaction, the review
// queue as a reviewer lists it). Each subtest gets a fresh, empty store from newStore, called
// with that subtest's *testing.T.
func Run(t *testing.T, newStore func(t *testing.T) emailflow.Store) {
	t.Helper()
	groups := []struct {
		name string
		run  func(*testing.T, newFunc)
	}{
		{"Interaction", testInteraction},
		{"Transaction", testTransaction},
		{"Concurrency", testConcurrency},
		{"FindInteractions", testFind},
		{"Load", testLoad},
		{"Email", testEmail},
		{"ClaimIngest", testClaimIngest},
		{"Checkpoint", testCheckpoint},
		{"Outbox", testOutbox},
		{"Event", testEvent},
		{"Agent", testAgent},
		{"AvailableAgents", testAvailableAgents},
		{"Waiting", testWaiting},
		{"Deadlines", testDeadlines},
		{"Directory", testDirectory},
		{"SenderRules", testSenderRules},
		{"RateCounters", testRates},
		{"Intake", testIntake},
		{"Classification", testClassification},
		{"Desk", testDesk},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, newStore) })
	}
}

// fresh returns a new empty store.
func fresh(t *testing.T, newStore newFunc) emailflow.Store {
	t.Helper()
	s := newStore(t)
	require.NotNil(t, s, "newStore returned nil")
	return s
}

// update runs fn in a read-write transaction that must succeed.
func update(t *testing.T, s emailflow.Store, fn func(ctx context.Context, tx emailflow.Tx)) {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		fn(ctx, tx)
		return nil
	}))
}

// view runs fn in a read-only transaction that must succeed.
func view(t *testing.T, s emailflow.Store, fn func(ctx context.Context, tx emailflow.Tx)) {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		fn(ctx, tx)
		return nil
	}))
}

// create stores interactions, each in its own transaction.
func create(t *testing.T, s emailflow.Store, its ...*interaction.Interaction) {
	t.Helper()
	for _, it := range its {
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			require.NoError(t, tx.CreateInteraction(ctx, it), "create interaction %s", it.ID)
		})
	}
}

// load reads one interaction, which must exist.
func load(t *testing.T, s emailflow.Store, id string) *interaction.Interaction {
	t.Helper()
	var it *interaction.Interaction
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		it, err = tx.Interaction(ctx, id)
		require.NoError(t, err, "interaction %s", id)
	})
	return it
}

// change loads interaction id, applies fn and writes it back.
func change(t *testing.T, s emailflow.Store, id string, fn func(*interaction.Interaction)) *interaction.Interaction {
	t.Helper()
	var it *interaction.Interaction
	update(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		it, err = tx.Interaction(ctx, id)
		require.NoError(t, err)
		fn(it)
		require.NoError(t, tx.UpdateInteraction(ctx, it))
	})
	return it
}

// base is the time every fixture is built from: whole seconds, UTC.
var base = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// at returns base plus minutes.
func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

// plain returns a minimal interaction of kind k in state st, alone in its
// thread.
func plain(id string, k interaction.Kind, st interaction.State) *interaction.Interaction {
	return &interaction.Interaction{
		ID: id, Kind: k, State: st, ThreadID: id,
		History:   []interaction.Entry{{At: base, Actor: "system", Action: "create", To: st}},
		CreatedAt: base, UpdatedAt: base,
	}
}

// full returns an inbound interaction with every field set, so that round
// trips and copy checks cover them all.
func full(id string) *interaction.Interaction {
	return &interaction.Interaction{
		ID:        id,
		Kind:      interaction.KindInbound,
		State:     interaction.StateHandling,
		ThreadID:  "thread-" + id,
		ContactID: "contact-helene",
		Mailbox:   "support@shop.example",
		Subject:   "Où est ma commande ?",
		Owner:     "ann",
		Queue:     "sales",
		Workbin:   "in-progress",
		LastAgent: "ann",
		Language:  "fr",
		Skills:    map[string]int{"billing": 2, "complaints": 4},
		// A follow-up goes back to ann for an hour.
		PreferredAgent: "ann",
		PreferUntil:    at(60),
		Declined:       []string{"bob", "carol"},
		Excluded:       []string{"dave"},
		Priority:       3,
		QueuedAt:       at(1),
		OfferedAt:      at(2),
		CaseData: interaction.CaseData{
			{Key: "order", Value: "A-1001", ReadOnly: true},
			{Key: "reason", Value: "late delivery"},
		},
		Notes:       []interaction.Note{{Author: "ann", At: at(4), Text: "called the carrier"}},
		Answers:     []interaction.Answer{{ConsultID: "consult-" + id, Colleague: "bob", Text: "Refund the shipping.", At: at(5)}},
		Disposition: "resolved",
		ParentID:    "parent-" + id,
		// Review rounds belong to outbound email, but a store keeps every
		// field of the aggregate whatever its kind.
		Rounds: []interaction.Round{{
			Number: 1, ReviewID: "review-" + id, Author: "ann", Reviewer: "rex",
			Decision: interaction.DecisionRejected, Reason: "tone", Remarks: "Plus de courtoisie, merci.",
			SubmittedAt: at(2), DecidedAt: at(3), SubmittedHash: "h1", Hash: "h2",
			Edits: []interaction.RoundEdit{{
				By: "rex", At: at(3),
				Before: interaction.EmailContent{Subject: "Re: commande", Text: "Non.", To: []mail.Address{{Address: "helene@exemple.fr"}}},
				After:  interaction.EmailContent{Subject: "Re: commande", Text: "Bonjour, nous regardons.", To: []mail.Address{{Address: "helene@exemple.fr"}}},
			}},
		}},
		History: []interaction.Entry{
			{At: at(0), Actor: "system", Action: "create", To: interaction.StateNew},
			{At: at(1), Actor: "system", Action: "queue", From: interaction.StateNew, To: interaction.StateQueued},
			{At: at(2), Actor: "system", Action: "offer", From: interaction.StateQueued, To: interaction.StateOffered, Detail: "ann"},
			{At: at(3), Actor: "ann", Action: "accept", From: interaction.StateOffered, To: interaction.StateHandling},
			{At: at(4), Actor: "ann", Action: "note", From: interaction.StateHandling, To: interaction.StateHandling, Note: 1},
		},
		SLA: interaction.ServiceLevel{
			Policy: "standard", Route: "key-accounts",
			State: sla.State{
				Arrived: at(0), Last: at(4), Pendings: 1, Reviews: 1,
				Pending:       sla.Pending{Reason: sla.WaitingOnThirdParty, Since: at(4), Until: at(600)},
				FirstResponse: sla.Timer{Seq: 1, Started: at(0), Used: 4 * time.Minute, Met: at(4), Warned: true},
				Resolution:    sla.Timer{Seq: 1, Started: at(0), Used: time.Minute, Running: at(3)},
			},
			Next: at(600), Due: at(900), Risk: interaction.RiskAtRisk, WakeToQueue: true,
		},
		CreatedAt: at(0),
		UpdatedAt: at(4),
	}
}

// ids returns the ids of interactions, in order.
func ids(its []*interaction.Interaction) []string {
	out := make([]string, 0, len(its))
	for _, it := range its {
		out = append(out, it.ID)
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// canon returns v with every reachable time.Time moved to UTC and every
// empty slice or map set to nil, so that a value read back from a store
// compares equal to the value written whatever time zone and empty
// collection form the adapter uses. Values behind pointers are changed in
// place.
func canon[T any](v T) T {
	canonValue(reflect.ValueOf(&v).Elem())
	return v
}

func canonValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			canonValue(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
			}
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				canonValue(f)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if v.CanSet() {
				v.SetZero()
			}
			return
		}
		for i := range v.Len() {
			canonValue(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 {
			if v.CanSet() {
				v.SetZero()
			}
			return
		}
		switch v.Type().Elem().Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Struct, reflect.Slice, reflect.Map:
			iter := v.MapRange()
			for iter.Next() {
				e := reflect.New(iter.Value().Type()).Elem()
				e.Set(iter.Value())
				canonValue(e)
				v.SetMapIndex(iter.Key(), e)
			}
		}
	}
}

// same asserts that got equals want once both are in canonical form.
func same[T any](t *testing.T, want, got T, msgAndArgs ...any) bool {
	t.Helper()
	return assert.Equal(t, canon(want), canon(got), msgAndArgs...)
}
