package storetest

import (
	"bytes"
	"context"
	"net/mail"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// putEmails stores emails, each in its own transaction.
func putEmails(t *testing.T, s emailflow.Store, es ...*emailflow.Email) {
	t.Helper()
	for _, e := range es {
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			require.NoError(t, tx.PutEmail(ctx, e), "put email %s", e.ID)
		})
	}
}

// emailsOf returns the emails of an interaction.
func emailsOf(t *testing.T, s emailflow.Store, itID string) []*emailflow.Email {
	t.Helper()
	var es []*emailflow.Email
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		es, err = tx.EmailsOf(ctx, itID)
		require.NoError(t, err)
	})
	return es
}

// getEmail returns the email with id, which must exist.
func getEmail(t *testing.T, s emailflow.Store, id string) *emailflow.Email {
	t.Helper()
	var e *emailflow.Email
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		e, err = tx.Email(ctx, id)
		require.NoError(t, err)
	})
	return e
}

// byMessageID returns the id of the email holding messageID, or "" when
// none does.
func byMessageID(t *testing.T, s emailflow.Store, messageID string) string {
	t.Helper()
	var id string
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		e, err := tx.EmailByMessageID(ctx, messageID)
		if err == nil {
			id = e.ID
			return
		}
		require.ErrorIs(t, err, emailflow.ErrNotFound)
	})
	return id
}

// twoInteractions creates the interactions "a" and "b" that the email
// tests attach emails to.
func twoInteractions(t *testing.T, s emailflow.Store) {
	t.Helper()
	create(t, s,
		plain("a", interaction.KindInbound, interaction.StateQueued),
		plain("b", interaction.KindInbound, interaction.StateQueued))
}

func testEmail(t *testing.T, newStore newFunc) {
	t.Run("NotFound", func(t *testing.T) {
		s := fresh(t, newStore)
		twoInteractions(t, s)
		putEmails(t, s, message("m1", "a", "m1@exemple.fr", 0))
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			e, err := tx.Email(ctx, "unknown")
			assert.ErrorIs(t, err, emailflow.ErrNotFound)
			assert.Nil(t, e)
			e, err = tx.EmailByMessageID(ctx, "unknown@exemple.fr")
			assert.ErrorIs(t, err, emailflow.ErrNotFound)
			assert.Nil(t, e)
			es, err := tx.EmailsOf(ctx, "b")
			assert.NoError(t, err, "EmailsOf an interaction without emails")
			assert.Empty(t, es)
			es, err = tx.EmailsOf(ctx, "unknown")
			assert.NoError(t, err, "EmailsOf an unknown interaction")
			assert.Empty(t, es)
		})
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := fresh(t, newStore)
		twoInteractions(t, s)
		bare := &emailflow.Email{ID: "bare", InteractionID: "a", Direction: emailflow.Outbound, CreatedAt: base, UpdatedAt: base}
		for _, e := range []*emailflow.Email{message("full", "a", "full@exemple.fr", 0), bare} {
			putEmails(t, s, e.Clone())
			same(t, e, getEmail(t, s, e.ID), "email %s", e.ID)
		}
		got := byMessageID(t, s, "full@exemple.fr")
		assert.Equal(t, "full", got)
	})

	t.Run("EmailsOfOldestFirst", func(t *testing.T) {
		s := fresh(t, newStore)
		twoInteractions(t, s)
		// Ids out of order, interactions interleaved, and the last three
		// written in one transaction.
		putEmails(t, s,
			message("z", "a", "z@exemple.fr", 0),
			message("x", "b", "x@exemple.fr", 1),
			message("m", "a", "m@exemple.fr", 2))
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			for i, id := range []string{"c", "y", "a1"} {
				require.NoError(t, tx.PutEmail(ctx, message(id, "a", id+"@exemple.fr", 3+i)))
			}
		})
		assert.Equal(t, []string{"z", "m", "c", "y", "a1"}, emailIDs(emailsOf(t, s, "a")))
		assert.Equal(t, []string{"x"}, emailIDs(emailsOf(t, s, "b")))
		for _, e := range emailsOf(t, s, "a") {
			same(t, message(e.ID, "a", e.ID+"@exemple.fr", e.CreatedAt.Minute()), e)
		}
	})

	t.Run("ReplaceKeepsOrder", func(t *testing.T) {
		s := fresh(t, newStore)
		twoInteractions(t, s)
		putEmails(t, s,
			message("e1", "a", "e1@exemple.fr", 0),
			message("e2", "a", "e2@exemple.fr", 1),
			message("e3", "a", "e3@exemple.fr", 2))
		e1 := getEmail(t, s, "e1")
		e1.Text, e1.Warnings, e1.UpdatedAt = "edited", nil, at(10)
		putEmails(t, s, e1)
		got := emailsOf(t, s, "a")
		assert.Equal(t, []string{"e1", "e2", "e3"}, emailIDs(got))
		require.Len(t, got, 3)
		same(t, e1, got[0])
		same(t, e1, getEmail(t, s, "e1"))
		assert.Equal(t, "e1", byMessageID(t, s, "e1@exemple.fr"), "a replaced email keeps its Message-ID")
	})

	t.Run("ByMessageID", func(t *testing.T) {
		s := fresh(t, newStore)
		twoInteractions(t, s)
		putEmails(t, s,
			message("e1", "a", "e1@exemple.fr", 0),
			message("e2", "b", "e2@exemple.fr", 1))
		assert.Equal(t, "e1", byMessageID(t, s, "e1@exemple.fr"))
		assert.Equal(t, "e2", byMessageID(t, s, "e2@exemple.fr"))
		assert.Empty(t, byMessageID(t, s, "<e1@exemple.fr>"), "Message-IDs are stored without angle brackets")
	})

	t.Run("ByMessageIDs", func(t *testing.T) {
		s := fresh(t, newStore)
		twoInteractions(t, s)
		first := message("first", "a", "dup@exemple.fr", 0)
		copied := message("copy", "b", "dup@exemple.fr", 1)
		putEmails(t, s, message("e1", "a", "e1@exemple.fr", 2), first, copied, message("e2", "b", "e2@exemple.fr", 3))
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			got, err := tx.EmailsByMessageIDs(ctx, []string{"e2@exemple.fr", "nobody@exemple.fr", "dup@exemple.fr", "e1@exemple.fr", "e2@exemple.fr"})
			require.NoError(t, err)
			assert.Equal(t, []string{"e2", "first", "e1"}, emailIDs(got), "in the order asked, each once, the first email keeping a Message-ID")
			for _, e := range got {
				same(t, message(e.ID, e.InteractionID, e.MessageID, e.CreatedAt.Minute()), e, "whole, raw bytes included")
			}
			got, err = tx.EmailsByMessageIDs(ctx, nil)
			assert.NoError(t, err)
			assert.Empty(t, got)
			got, err = tx.EmailsByMessageIDs(ctx, []string{"<e1@exemple.fr>", ""})
			assert.NoError(t, err)
			assert.Empty(t, got, "Message-IDs are without angle brackets; none is empty")
		})
	})

	t.Run("BytesKeptExactly", func(t *testing.T) {
		// The raw message and attachment bodies are bytes, whatever they
		// hold: NUL, bytes that are not UTF-8, nothing, or nothing stored
		// here at all (a body kept in a BlobStore has no Data).
		s := fresh(t, newStore)
		twoInteractions(t, s)
		e := message("bytes", "a", "bytes@exemple.fr", 0)
		e.Raw = []byte("Subject: \xff\xfe\r\n\r\nH\x00e\x00\r\n")
		e.Attachments = []emailflow.Attachment{
			{ID: "b1", Filename: "utf16.txt", ContentType: "text/plain", Size: 6, Data: []byte{0xFF, 0xFE, 'H', 0, 'i', 0}},
			{ID: "b2", Filename: "empty.bin", ContentType: "application/octet-stream", Size: 0, Data: []byte{}},
			{ID: "b3", Filename: "blob.bin", ContentType: "application/octet-stream", Size: 1 << 20},
			{ID: "b4", Filename: "all.bin", ContentType: "application/octet-stream", Size: 256, Data: allBytes()},
		}
		putEmails(t, s, e.Clone())
		for _, got := range []*emailflow.Email{getEmail(t, s, "bytes"), emailsOf(t, s, "a")[0]} {
			assert.Equal(t, e.Raw, got.Raw)
			require.Len(t, got.Attachments, 4)
			for i, a := range got.Attachments {
				assert.Equal(t, e.Attachments[i].ID, a.ID)
				assert.Equal(t, len(e.Attachments[i].Data), len(a.Data), "attachment %s", a.ID)
				if len(e.Attachments[i].Data) > 0 {
					assert.Equal(t, e.Attachments[i].Data, a.Data, "attachment %s", a.ID)
				}
			}
		}
	})

	t.Run("LargeBytesKeptExactly", func(t *testing.T) {
		// Values of several MiB (a store may send them in pieces) come
		// back exactly: the raw message, a body attached twice, a body
		// another email stored before, and the email written again.
		s := fresh(t, newStore)
		twoInteractions(t, s)
		big, other := bigBytes(5<<20+3, 1), bigBytes(3<<20, 2)
		first := message("first", "a", "first@exemple.fr", 0)
		first.Raw = bigBytes(2<<20+1, 3)
		first.Attachments = []emailflow.Attachment{{ID: "o", Filename: "o.bin", Size: int64(len(other)), Data: other}}
		e := message("large", "b", "large@exemple.fr", 1)
		e.Raw = bigBytes(9<<20+7, 4)
		e.Attachments = []emailflow.Attachment{
			{ID: "l1", Filename: "scan.pdf", ContentType: "application/pdf", Size: int64(len(big)), Data: big},
			{ID: "s", Filename: "note.txt", ContentType: "text/plain", Size: 5, Data: []byte("hello")},
			{ID: "l2", Filename: "copy.pdf", ContentType: "application/pdf", Size: int64(len(big)), Data: big},
			{ID: "o", Filename: "o.bin", Size: int64(len(other)), Data: other},
		}
		putEmails(t, s, first.Clone(), e.Clone())
		check := func(want, got *emailflow.Email) {
			t.Helper()
			assert.True(t, bytes.Equal(want.Raw, got.Raw), "raw of %s: %d bytes, want %d", want.ID, len(got.Raw), len(want.Raw))
			require.Len(t, got.Attachments, len(want.Attachments))
			for i, a := range got.Attachments {
				assert.True(t, bytes.Equal(want.Attachments[i].Data, a.Data), "attachment %s of %s", a.ID, want.ID)
			}
		}
		check(first, getEmail(t, s, "first"))
		check(e, getEmail(t, s, "large"))
		e.Raw = append(bytes.Clone(e.Raw), "\r\nmore"...)
		e.Attachments = e.Attachments[:2]
		putEmails(t, s, e.Clone())
		check(e, getEmail(t, s, "large"))
		check(e, emailsOf(t, s, "b")[0])
		assert.Equal(t, "first", byMessageID(t, s, "first@exemple.fr"))
	})

	t.Run("WithoutMessageID", func(t *testing.T) {
		s := fresh(t, newStore)
		twoInteractions(t, s)
		putEmails(t, s, message("e1", "a", "", 0), message("e2", "b", "", 1))
		assert.Empty(t, byMessageID(t, s, ""), "no email holds the empty Message-ID")
		assert.Equal(t, []string{"e1"}, emailIDs(emailsOf(t, s, "a")))
	})

	t.Run("FirstKeepsMessageID", func(t *testing.T) {
		for _, sameTx := range []bool{false, true} {
			name := "SeparateTransactions"
			if sameTx {
				name = "OneTransaction"
			}
			t.Run(name, func(t *testing.T) {
				s := fresh(t, newStore)
				twoInteractions(t, s)
				first := message("first", "a", "dup@exemple.fr", 0)
				dup := message("copy", "b", "dup@exemple.fr", 1)
				dup.Text = "a re-delivered copy"
				if sameTx {
					update(t, s, func(ctx context.Context, tx emailflow.Tx) {
						require.NoError(t, tx.PutEmail(ctx, first))
						require.NoError(t, tx.PutEmail(ctx, dup))
					})
				} else {
					putEmails(t, s, first, dup)
				}
				assert.Equal(t, "first", byMessageID(t, s, "dup@exemple.fr"))
				same(t, dup, getEmail(t, s, "copy"), "the copy is stored all the same")
				assert.Equal(t, []string{"copy"}, emailIDs(emailsOf(t, s, "b")))

				// Replacing either keeps the Message-ID with the first
				// (with copies: the written values are the store's).
				putEmails(t, s, dup.Clone(), first.Clone())
				assert.Equal(t, "first", byMessageID(t, s, "dup@exemple.fr"))
			})
		}
	})

	t.Run("Copies", func(t *testing.T) {
		// An email handed out is the caller's own. (One passed to PutEmail
		// may be kept by the store and is not changed afterwards: see
		// emailflow.Tx.)
		mutations := []struct {
			name   string
			mutate func(*emailflow.Email)
		}{
			{"Scalar", func(e *emailflow.Email) {
				e.Subject, e.Text, e.From.Address = "changed", "changed", "mallory@evil.example"
			}},
			{"Addresses", func(e *emailflow.Email) {
				e.To[0].Address, e.Cc[0].Name, e.Bcc[0].Address, e.ReplyTo[0].Address = "x@x", "x", "x@x", "x@x"
			}},
			{"References", func(e *emailflow.Email) { e.InReplyTo[0], e.References[1] = "x", "x" }},
			{"Attachments", func(e *emailflow.Email) { e.Attachments[0].Filename, e.Attachments[1].Inline = "virus.exe", false }},
			{"Warnings", func(e *emailflow.Email) { e.Warnings[0] = "changed" }},
			{"Envelope", func(e *emailflow.Email) { e.Envelope.From, e.Envelope.To[0] = "x@x", "x@x" }},
			{"Append", func(e *emailflow.Email) {
				e.To = append(e.To[:1], mail.Address{})
				e.Warnings = append(e.Warnings[:1], "x")
			}},
		}
		sources := []struct {
			name string
			get  func(t *testing.T, s emailflow.Store) *emailflow.Email
		}{
			{"FromEmail", func(t *testing.T, s emailflow.Store) *emailflow.Email {
				putEmails(t, s, message("e", "a", "e@exemple.fr", 0))
				return getEmail(t, s, "e")
			}},
			{"FromEmailsOf", func(t *testing.T, s emailflow.Store) *emailflow.Email {
				putEmails(t, s, message("e", "a", "e@exemple.fr", 0))
				es := emailsOf(t, s, "a")
				require.Len(t, es, 1)
				return es[0]
			}},
			{"FromEmailByMessageID", func(t *testing.T, s emailflow.Store) *emailflow.Email {
				putEmails(t, s, message("e", "a", "e@exemple.fr", 0))
				var e *emailflow.Email
				view(t, s, func(ctx context.Context, tx emailflow.Tx) {
					var err error
					e, err = tx.EmailByMessageID(ctx, "e@exemple.fr")
					require.NoError(t, err)
				})
				return e
			}},
		}
		for _, src := range sources {
			for _, m := range mutations {
				t.Run(src.name+"/"+m.name, func(t *testing.T) {
					s := fresh(t, newStore)
					twoInteractions(t, s)
					e := src.get(t, s)
					want := e.Clone()
					m.mutate(e)
					same(t, want, getEmail(t, s, "e"))
				})
			}
		}
	})
}

// allBytes returns the 256 byte values.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// bigBytes returns n bytes of every value, differing with seed.
func bigBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ byte(i>>9) ^ seed
	}
	return b
}
