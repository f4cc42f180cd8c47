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

func TestInsertResponse(t *testing.T) {
	ctx := context.Background()
	lib := &compose.Library{}
	require.NoError(t, lib.Add(compose.Template{ID: "delay", Name: "Retard de livraison", Category: "Livraison",
		Text: "Bonjour {{contact.firstName}},\nvotre commande {{case.Order}} arrive demain.\n{{agent.name}}\n",
		HTML: "<p>Bonjour {{contact.firstName}},</p><p>votre commande {{case.Order}} arrive demain.</p>"}))
	require.NoError(t, lib.Add(compose.Template{ID: "missing", Name: "x", Category: "x", Text: "{{case.Nope}}"}))
	f := newFixture(t, &emailflow.Options{Responses: lib})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	require.NoError(t, f.ws.As("alice").SetCaseData(ctx, id, "Order", "FR-2291 <urgent>"))
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)

	require.NoError(t, errOf(f.ws.As("alice").InsertResponse(ctx, emailflow.ResponseRef{Draft: r.ID, Response: "delay"})))
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(d.Text, "Bonjour Hélène,\nvotre commande FR-2291 <urgent> arrive demain.\nAlice\n"), d.Text)
	assert.Contains(t, d.Text, "> Pouvez-vous vérifier", "the quote stays below")
	assert.Contains(t, d.HTML, "FR-2291 &lt;urgent&gt;", "escaped in HTML")

	_, err = f.ws.As("alice").InsertResponse(ctx, emailflow.ResponseRef{Draft: r.ID, Response: "missing"})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	assert.ErrorContains(t, err, "case.Nope", "the error names the missing field")
	assert.ErrorIs(t, errOf(f.ws.As("alice").InsertResponse(ctx, emailflow.ResponseRef{Draft: r.ID, Response: "nope"})), emailflow.ErrNotFound)
	assert.ErrorIs(t, errOf(f.ws.As("bob").InsertResponse(ctx, emailflow.ResponseRef{Draft: r.ID, Response: "delay"})), emailflow.ErrForbidden)
	after, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	assert.Equal(t, d.Text, after.Text, "refusals change nothing")
}

func TestAutoAcknowledge(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AutoAcknowledge: &compose.Template{
		Text: "Bonjour {{contact.firstName}},\nnous avons bien reçu votre message et vous répondrons sous 24 h.\n",
	}})
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	sent := f.sender.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, []string{"helene.dupre@exemple.fr"}, sent[0].To)
	ack, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	assert.Equal(t, "auto-replied", ack.Header.Get("Auto-Submitted"))
	assert.Equal(t, []string{"CAF3x9-helene-2291@mail.exemple.fr"}, ack.InReplyTo)
	assert.Equal(t, "Re: Commande FR-2291 : colis non reçu", ack.Subject)
	assert.Contains(t, ack.Text, "Bonjour Hélène,")

	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State, "the email still waits for an agent")
	autos, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{ThreadID: it.ThreadID, Kind: interaction.KindOutbound})
	require.NoError(t, err)
	require.Len(t, autos, 1)
	assert.Equal(t, interaction.PurposeAutoReply, autos[0].Purpose)
	assert.Equal(t, interaction.StateSent, autos[0].State)

	// One per conversation: the customer's follow-up gets none.
	f.ingest(t, followUpFrom("again", "helene.dupre@exemple.fr", support, "In-Reply-To: <"+ack.MessageID+">\r\n"))
	assert.Len(t, f.sender.Sent(), 1)

	// Never to automated mail, nor to ourselves.
	for name, extra := range map[string]string{
		"auto-submitted": "Auto-Submitted: auto-replied\r\n",
		"bulk":           "Precedence: bulk\r\n",
		"list":           "List-Id: <news.exemple.fr>\r\n",
		"x-autoreply":    "X-Autoreply: yes\r\n",
	} {
		f.ingest(t, mailTo("auto-"+name, support, extra))
		assert.Len(t, f.sender.Sent(), 1, name)
	}
	f.ingest(t, []byte("From: MAILER-DAEMON@mx.exemple.fr\r\nTo: support@boutique.example\r\nSubject: Undelivered Mail\r\nMessage-ID: <bounce@mx>\r\n\r\nbounced\r\n"))
	f.ingest(t, []byte("From: support@boutique.example\r\nTo: support@boutique.example\r\nSubject: loop\r\nMessage-ID: <loop@x>\r\n\r\nloop\r\n"))
	assert.Len(t, f.sender.Sent(), 1, "no acknowledgement to a bounce or to our own mailbox")
}
