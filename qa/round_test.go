package qa_test

import (
	"net/mail"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func content() qa.Content {
	return qa.Content{
		From:       mail.Address{Name: "Service Client", Address: "support@boutique.example"},
		To:         []mail.Address{{Name: "Hélène", Address: "helene@exemple.fr"}},
		Subject:    "Re: Commande",
		Text:       "Bonjour",
		InReplyTo:  []string{"m1@exemple.fr"},
		References: []string{"m1@exemple.fr"},
		Attachments: []qa.AttachmentDigest{
			qa.Digest("bon.pdf", "application/pdf", "", false, []byte("%PDF")),
		},
	}
}

// TestHashCoversEveryField: changing any field that reaches the recipient
// changes the hash; an equal copy hashes the same.
func TestHashCoversEveryField(t *testing.T) {
	base := qa.Hash(content())
	assert.Equal(t, base, qa.Hash(content().Clone()))
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, base)
	changes := map[string]func(c *qa.Content){
		"from":       func(c *qa.Content) { c.From.Address = "other@boutique.example" },
		"to name":    func(c *qa.Content) { c.To[0].Name = "Helene" },
		"to added":   func(c *qa.Content) { c.To = append(c.To, mail.Address{Address: "x@y.example"}) },
		"to to cc":   func(c *qa.Content) { c.Cc, c.To = c.To, nil },
		"bcc":        func(c *qa.Content) { c.Bcc = []mail.Address{{Address: "x@y.example"}} },
		"reply-to":   func(c *qa.Content) { c.ReplyTo = []mail.Address{{Address: "x@y.example"}} },
		"subject":    func(c *qa.Content) { c.Subject += "!" },
		"text":       func(c *qa.Content) { c.Text += " " },
		"html":       func(c *qa.Content) { c.HTML = "<p>Bonjour</p>" },
		"in-reply":   func(c *qa.Content) { c.InReplyTo = nil },
		"references": func(c *qa.Content) { c.References = append(c.References, "m0@exemple.fr") },
		"attachment": func(c *qa.Content) {
			c.Attachments[0] = qa.Digest("bon.pdf", "application/pdf", "", false, []byte("%PDF2"))
		},
		"inline":    func(c *qa.Content) { c.Attachments[0].Inline = true },
		"no attach": func(c *qa.Content) { c.Attachments = nil },
		// Length prefixes: moving text between fields is a change.
		"boundary": func(c *qa.Content) { c.Subject, c.Text = "Re: CommandeB", "onjour" },
	}
	for name, change := range changes {
		c := content().Clone()
		change(&c)
		assert.NotEqual(t, base, qa.Hash(c), name)
	}
}

func TestRoundRules(t *testing.T) {
	reasons := []string{"tone", "accuracy"}
	r, err := qa.Submit(nil, "alice", "rv-1", content(), true, t0)
	require.NoError(t, err)
	assert.Equal(t, qa.Round{Number: 1, ReviewID: "rv-1", Author: "alice", Requested: true, Decision: qa.Pending,
		SubmittedAt: t0, SubmittedHash: qa.Hash(content()), Hash: qa.Hash(content())}, r)

	_, err = qa.Submit([]qa.Round{r}, "alice", "rv-2", content(), false, t0)
	assert.ErrorIs(t, err, interaction.ErrInvalidInput, "one pending round at a time")
	_, err = qa.Submit(nil, "", "rv-2", content(), false, t0)
	assert.ErrorIs(t, err, interaction.ErrInvalidInput)

	refusals := []struct {
		name string
		do   func(r *qa.Round) error
		want error
	}{
		{"author approves", func(r *qa.Round) error { return qa.Approve(r, "alice", r.Hash, t0) }, interaction.ErrForbidden},
		{"no reviewer", func(r *qa.Round) error { return qa.Approve(r, "", r.Hash, t0) }, interaction.ErrForbidden},
		{"author rejects", func(r *qa.Round) error { return qa.Reject(r, "alice", "tone", "x", reasons, t0) }, interaction.ErrForbidden},
		{"author edits", func(r *qa.Round) error {
			_, err := qa.EditContent(r, "alice", content(), qa.Content{Text: "x"}, t0)
			return err
		}, interaction.ErrForbidden},
		{"changed content", func(r *qa.Round) error { return qa.Approve(r, "rita", "sha256:other", t0) }, qa.ErrChanged},
		{"unknown reason", func(r *qa.Round) error { return qa.Reject(r, "rita", "mood", "x", reasons, t0) }, interaction.ErrInvalidInput},
		{"no remarks", func(r *qa.Round) error { return qa.Reject(r, "rita", "tone", " \n", reasons, t0) }, interaction.ErrInvalidInput},
		{"withdraw by another", func(r *qa.Round) error { return qa.Withdraw(r, "bob", t0) }, interaction.ErrForbidden},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			c := r.Clone()
			assert.ErrorIs(t, tt.do(&c), tt.want)
			assert.Equal(t, r, c, "a refusal changes nothing")
		})
	}

	// Decided rounds refuse every further decision.
	decided := r.Clone()
	require.NoError(t, qa.Reject(&decided, "rita", "tone", "  Plus chaleureux.  ", reasons, t0.Add(time.Hour)))
	assert.Equal(t, qa.Rejected, decided.Decision)
	assert.Equal(t, "Plus chaleureux.", decided.Remarks)
	assert.Equal(t, "rita", decided.Reviewer)
	assert.Equal(t, t0.Add(time.Hour), decided.DecidedAt)
	assert.ErrorIs(t, qa.Approve(&decided, "rita", decided.Hash, t0), interaction.ErrInvalidTransition)
	assert.ErrorIs(t, qa.Reject(&decided, "rita", "tone", "x", reasons, t0), interaction.ErrInvalidTransition)
	assert.ErrorIs(t, qa.Withdraw(&decided, "alice", t0), interaction.ErrInvalidTransition)
	_, err = qa.EditContent(&decided, "rita", content(), qa.Content{}, t0)
	assert.ErrorIs(t, err, interaction.ErrInvalidTransition)

	next, err := qa.Submit([]qa.Round{decided}, "alice", "rv-2", content(), false, t0)
	require.NoError(t, err)
	assert.Equal(t, 2, next.Number)
}

func TestEditThenApprove(t *testing.T) {
	r, err := qa.Submit(nil, "alice", "rv-1", content(), false, t0)
	require.NoError(t, err)
	after := content().Clone()
	after.Text = "Bonjour Hélène"
	changed, err := qa.EditContent(&r, "rita", content(), after, t0)
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = qa.EditContent(&r, "rita", after, after.Clone(), t0)
	require.NoError(t, err)
	assert.False(t, changed, "no change, nothing recorded")
	require.Len(t, r.Edits, 1)
	assert.Equal(t, "Bonjour", r.Edits[0].Before.Text)
	assert.Equal(t, qa.Hash(after), r.Hash)
	assert.ErrorIs(t, qa.Approve(&r, "rita", qa.Hash(content()), t0), qa.ErrChanged, "the submitted version is no longer the reviewed one")
	require.NoError(t, qa.Approve(&r, "rita", qa.Hash(after), t0))
	assert.Equal(t, qa.Approved, r.Decision)
}

func TestMustReview(t *testing.T) {
	R := func(d qa.Decision) qa.Round { return qa.Round{Decision: d} }
	assert.False(t, qa.MustReview(nil))
	assert.True(t, qa.MustReview([]qa.Round{R(qa.Rejected)}))
	assert.True(t, qa.MustReview([]qa.Round{R(qa.Rejected), R(qa.Withdrawn)}), "withdrawing does not lift a rejection")
	assert.False(t, qa.MustReview([]qa.Round{R(qa.Rejected), R(qa.Approved)}))
	assert.False(t, qa.MustReview([]qa.Round{R(qa.Withdrawn)}))
	assert.Nil(t, qa.Current(nil))
}

func TestWindow(t *testing.T) {
	w := qa.Window{From: t0, To: t0.Add(time.Hour)}
	assert.True(t, w.Contains(t0))
	assert.False(t, w.Contains(t0.Add(time.Hour)))
	assert.False(t, w.Contains(t0.Add(-time.Nanosecond)))
	assert.True(t, qa.Window{}.Contains(time.Time{}))
}
