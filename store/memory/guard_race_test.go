//go:build race

package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
)

// The store keeps the values it is given (no copy on write), so a caller
// changing one after the write would change the store behind its back,
// past versions and indexes. Race builds (the way the tests run) catch it:
// the next read or write of that record panics.
func TestGuardCatchesAWriteBehindTheStoresBack(t *testing.T) {
	ctx := context.Background()
	newInteraction := func() *interaction.Interaction {
		return &interaction.Interaction{ID: "it", Kind: interaction.KindInbound, State: interaction.StateQueued, ThreadID: "it", Subject: "Commande"}
	}
	newEmail := func() *emailflow.Email {
		return &emailflow.Email{ID: "e1", InteractionID: "it", MessageID: "m1@exemple.fr", Subject: "Commande", Text: "Bonjour"}
	}
	readInteraction := func(s *memory.Store) error {
		return s.View(ctx, func(tx emailflow.Tx) error { _, err := tx.Interaction(ctx, "it"); return err })
	}
	findInteraction := func(s *memory.Store) error {
		return s.View(ctx, func(tx emailflow.Tx) error {
			_, err := tx.FindInteractions(ctx, emailflow.Query{States: []interaction.State{interaction.StateQueued}})
			return err
		})
	}
	updateInteraction := func(s *memory.Store) error {
		return s.Update(ctx, func(tx emailflow.Tx) error {
			it := newInteraction()
			it.Version = 1
			return tx.UpdateInteraction(ctx, it)
		})
	}
	readEmail := func(s *memory.Store) error {
		return s.View(ctx, func(tx emailflow.Tx) error { _, err := tx.Email(ctx, "e1"); return err })
	}
	emailsOf := func(s *memory.Store) error {
		return s.View(ctx, func(tx emailflow.Tx) error { _, err := tx.EmailsOf(ctx, "it"); return err })
	}
	byMessageID := func(s *memory.Store) error {
		return s.View(ctx, func(tx emailflow.Tx) error { _, err := tx.EmailByMessageID(ctx, "m1@exemple.fr"); return err })
	}
	putEmail := func(s *memory.Store) error {
		return s.Update(ctx, func(tx emailflow.Tx) error { return tx.PutEmail(ctx, newEmail()) })
	}

	// Each setup writes a record and returns how to change it behind the
	// store's back.
	created := func(t *testing.T, s *memory.Store) func() {
		it := newInteraction()
		require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.CreateInteraction(ctx, it) }))
		return func() { it.Subject = "changed" }
	}
	updated := func(t *testing.T, s *memory.Store) func() {
		created(t, s)
		var it *interaction.Interaction
		require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
			var err error
			if it, err = tx.Interaction(ctx, "it"); err != nil {
				return err
			}
			it.Owner = "alice"
			return tx.UpdateInteraction(ctx, it)
		}))
		return func() { it.Owner = "mallory" }
	}
	emailPut := func(t *testing.T, s *memory.Store) func() {
		created(t, s)
		e := newEmail()
		require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.PutEmail(ctx, e) }))
		return func() { e.Text = "changed" }
	}
	emailReplaced := func(t *testing.T, s *memory.Store) func() {
		emailPut(t, s) // its own change is not made
		var e *emailflow.Email
		require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
			var err error
			if e, err = tx.Email(ctx, "e1"); err != nil {
				return err
			}
			e.Subject = "Re: Commande"
			return tx.PutEmail(ctx, e)
		}))
		return func() { e.Subject = "changed" }
	}

	const changedIt = "memory: interaction it was changed after it was written"
	const changedEmail = "memory: email e1 was changed after it was written"
	tests := []struct {
		name  string
		setup func(t *testing.T, s *memory.Store) func()
		next  func(s *memory.Store) error
		want  string
	}{
		{"created, then read", created, readInteraction, changedIt},
		{"created, then found", created, findInteraction, changedIt},
		{"created, then written again", created, updateInteraction, changedIt},
		{"updated, then read", updated, readInteraction, changedIt},
		{"updated, then found", updated, findInteraction, changedIt},
		{"email put, then read", emailPut, readEmail, changedEmail},
		{"email put, then listed", emailPut, emailsOf, changedEmail},
		{"email put, then found by Message-ID", emailPut, byMessageID, changedEmail},
		{"email put, then put again", emailPut, putEmail, changedEmail},
		{"email replaced, then read", emailReplaced, readEmail, changedEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			untouched := memory.New(nil)
			tt.setup(t, untouched)
			require.NoError(t, tt.next(untouched), "untouched, the record reads and writes normally")

			s := memory.New(nil)
			tt.setup(t, s)()
			defer func() {
				r := recover()
				require.NotNil(t, r, "the change behind the store's back is caught")
				assert.Contains(t, fmt.Sprint(r), tt.want)
				// The store is still usable: the panic released its lock.
				assert.NoError(t, s.View(ctx, func(emailflow.Tx) error { return nil }))
			}()
			_ = tt.next(s)
		})
	}
}

// A rolled-back write puts back the record it replaced with the guard's
// copy of it as written, so a change made to that record during the
// transaction still shows at the next read.
func TestGuardSurvivesARollback(t *testing.T) {
	ctx := context.Background()
	for _, behind := range []bool{false, true} {
		t.Run(fmt.Sprintf("changed behind the store's back: %v", behind), func(t *testing.T) {
			s := memory.New(nil)
			it := &interaction.Interaction{ID: "it", Kind: interaction.KindInbound, State: interaction.StateQueued, ThreadID: "it"}
			require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.CreateInteraction(ctx, it) }))
			err := s.Update(ctx, func(tx emailflow.Tx) error {
				c, err := tx.Interaction(ctx, "it")
				if err != nil {
					return err
				}
				c.Owner = "alice"
				if err := tx.UpdateInteraction(ctx, c); err != nil {
					return err
				}
				if behind {
					it.State = interaction.StateDone // the value written first, changed by its caller
				}
				return errors.New("abort")
			})
			require.EqualError(t, err, "abort")
			read := func() error {
				return s.View(ctx, func(tx emailflow.Tx) error {
					got, err := tx.Interaction(ctx, "it")
					if err == nil {
						assert.Empty(t, got.Owner, "rolled back")
					}
					return err
				})
			}
			if !behind {
				require.NoError(t, read())
				return
			}
			assert.PanicsWithValue(t, "memory: interaction it was changed after it was written (version 1)", func() { _ = read() })
		})
	}
}
