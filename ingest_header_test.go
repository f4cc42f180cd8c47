package emailflow_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

const tooLarge = "This message (31.5 MB) is over the 25 MB limit: only its header was taken in; the whole message is still on the mail server."

// headerOf returns the header section of raw, with the blank line that
// ends it.
func headerOf(t testing.TB, raw []byte) []byte {
	t.Helper()
	i := bytes.Index(raw, []byte("\n\n"))
	if j := bytes.Index(raw, []byte("\r\n\r\n")); j >= 0 && (i < 0 || j < i) {
		return raw[:j+4]
	}
	require.GreaterOrEqual(t, i, 0, "no blank line")
	return raw[:i+2]
}

// systemNotes returns the texts of the notes "system" wrote.
func systemNotes(it *interaction.Interaction) []string {
	var out []string
	for _, n := range it.Notes {
		if n.Author == "system" {
			out = append(out, n.Text)
		}
	}
	return out
}

func TestIngestHeader(t *testing.T) {
	ctx := context.Background()
	raw := readFile(t, "testdata/french-order.eml")
	header := headerOf(t, raw)

	t.Run("NewConversation", func(t *testing.T) {
		f := newFixture(t, nil)
		f.agent(t, "camille")
		it, err := f.ws.IngestHeader(ctx, support, bytes.NewReader(header), tooLarge)
		require.NoError(t, err)
		assert.Equal(t, interaction.StateOffered, it.State, "routed like any email")
		assert.Equal(t, "camille", it.OfferedTo)
		assert.Equal(t, "Commande FR-2291 : colis non reçu", it.Subject)
		assert.Equal(t, []string{tooLarge}, systemNotes(it))

		emails, err := f.ws.As(admin).Emails(ctx, it.ID)
		require.NoError(t, err)
		require.Len(t, emails, 1)
		e := emails[0]
		assert.Equal(t, "CAF3x9-helene-2291@mail.exemple.fr", e.MessageID)
		assert.Equal(t, "helene.dupre@exemple.fr", e.From.Address)
		assert.Equal(t, header, e.Raw, "the header as received is the raw message")
		assert.Empty(t, e.Text, "no body")
		assert.Empty(t, e.Attachments)
		assert.Contains(t, e.Warnings, tooLarge)
	})

	t.Run("Idempotent", func(t *testing.T) {
		f := newFixture(t, nil)
		first, err := f.ws.IngestHeader(ctx, support, bytes.NewReader(header), tooLarge)
		require.NoError(t, err)
		again, err := f.ws.IngestHeader(ctx, support, bytes.NewReader(header), tooLarge)
		require.NoError(t, err)
		assert.Equal(t, first.ID, again.ID)
		assert.Len(t, systemNotes(again), 1, "one note, not one per call")
		all, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{Kind: interaction.KindInbound})
		require.NoError(t, err)
		assert.Len(t, all, 1)
	})

	t.Run("AlreadyTakenInWhole", func(t *testing.T) {
		f := newFixture(t, nil)
		whole := f.ingest(t, raw)
		it, err := f.ws.IngestHeader(ctx, support, bytes.NewReader(header), tooLarge)
		require.NoError(t, err)
		assert.Equal(t, whole, it.ID)
		assert.Empty(t, systemNotes(it), "the whole message is there: nothing to explain")
		emails, err := f.ws.As(admin).Emails(ctx, it.ID)
		require.NoError(t, err)
		require.Len(t, emails, 1)
		assert.Equal(t, raw, emails[0].Raw)
	})

	t.Run("FollowUpJoinsTheOpenInteraction", func(t *testing.T) {
		f := newFixture(t, nil)
		f.agent(t, "camille")
		first := f.handled(t, "camille")
		follow := "From: Hélène Dupré <helene.dupre@exemple.fr>\r\nTo: support@boutique.example\r\n" +
			"Subject: Re: Commande FR-2291\r\nMessage-ID: <suite-2291@mail.exemple.fr>\r\n" +
			"In-Reply-To: <CAF3x9-helene-2291@mail.exemple.fr>\r\n" +
			"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
		it, err := f.ws.IngestHeader(ctx, support, strings.NewReader(follow), tooLarge)
		require.NoError(t, err)
		assert.Equal(t, first, it.ID, "joins the thread's open interaction")
		assert.Equal(t, []string{tooLarge}, systemNotes(it))
		emails, err := f.ws.As(admin).Emails(ctx, first)
		require.NoError(t, err)
		require.Len(t, emails, 2)
		assert.Contains(t, emails[1].Warnings, tooLarge)
	})

	t.Run("NoBlankLine", func(t *testing.T) {
		f := newFixture(t, nil)
		h := "From: a@exemple.fr\r\nSubject: Pièce jointe énorme\r\nMessage-ID: <big@exemple.fr>"
		it, err := f.ws.IngestHeader(ctx, support, strings.NewReader(h), tooLarge)
		require.NoError(t, err)
		assert.Equal(t, "Pièce jointe énorme", it.Subject)
		emails, err := f.ws.As(admin).Emails(ctx, it.ID)
		require.NoError(t, err)
		assert.Equal(t, h+"\r\n\r\n", string(emails[0].Raw))
	})

	refusals := []struct {
		name    string
		opts    *emailflow.Options
		mailbox string
		header  string
		reason  string
		want    error
	}{
		{"EmptyReason", nil, support, string(header), "  ", emailflow.ErrInvalidInput},
		{"BadMailbox", nil, "not an address", string(header), tooLarge, emailflow.ErrInvalidInput},
		{"HeaderTooLarge", &emailflow.Options{Parse: &compose.ParseOptions{MaxHeaderBytes: 64}}, support, string(header), tooLarge, emailflow.ErrTooLarge},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			_, err := f.ws.IngestHeader(ctx, tc.mailbox, strings.NewReader(tc.header), tc.reason)
			require.ErrorIs(t, err, tc.want)
			all, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{})
			require.NoError(t, err)
			assert.Empty(t, all, "a refusal stores nothing")
		})
	}
}

func TestIngested(t *testing.T) {
	ctx := context.Background()
	const id = "CAF3x9-helene-2291@mail.exemple.fr"
	raw := readFile(t, "testdata/french-order.eml")
	size := int64(len(raw))

	t.Run("Whole", func(t *testing.T) {
		f := newFixture(t, nil)
		known, err := f.ws.Ingested(ctx, support, id, size)
		require.NoError(t, err)
		assert.False(t, known)
		f.ingest(t, raw)
		tests := []struct {
			name    string
			mailbox string
			id      string
			size    int64
			known   bool
		}{
			{"same message", support, id, size, true},
			// One interaction per message, whichever of our mailboxes it
			// reached.
			{"other mailbox", "ventes@boutique.example", id, size, true},
			{"other Message-ID", support, "other@mail.exemple.fr", size, false},
			{"other size: another message under the same Message-ID", support, id, size + 1, false},
			{"no Message-ID: only Ingest can tell, from the bytes", support, "", size, false},
		}
		for _, tc := range tests {
			known, err := f.ws.Ingested(ctx, tc.mailbox, tc.id, tc.size)
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.known, known, tc.name)
		}
	})

	t.Run("HeaderOnly", func(t *testing.T) {
		f := newFixture(t, nil)
		header := headerOf(t, raw)
		_, err := f.ws.IngestHeader(ctx, support, bytes.NewReader(header), tooLarge)
		require.NoError(t, err)
		known, err := f.ws.Ingested(ctx, support, id, int64(len(header)))
		require.NoError(t, err)
		assert.True(t, known, "the header is what was taken in")
		known, err = f.ws.Ingested(ctx, support, id, size)
		require.NoError(t, err)
		assert.False(t, known, "not the whole message")
	})

	t.Run("SplitRecipients", func(t *testing.T) {
		f := newFixture(t, &emailflow.Options{SplitRecipients: true})
		f.ingest(t, raw)
		known, err := f.ws.Ingested(ctx, "SUPPORT@boutique.example", id, size)
		require.NoError(t, err)
		assert.True(t, known)
		known, err = f.ws.Ingested(ctx, "ventes@boutique.example", id, size)
		require.NoError(t, err)
		assert.False(t, known, "each mailbox gets its own interaction")
	})

	t.Run("BadMailbox", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.ws.Ingested(ctx, "nobody", id, size)
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	})
}
