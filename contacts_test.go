package emailflow_test

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

func TestContactsSearchAccentInsensitive(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for _, c := range []contact.Contact{
		{FirstName: "Hélène", LastName: "Dupré", Emails: []string{"helene.dupre@exemple.fr"}, Phones: []string{"+33 6 12 34 56 78"}, Language: "fr"},
		{FirstName: "Helena", LastName: "Bauer", Emails: []string{"h.bauer@beispiel.de"}},
		{FirstName: "Jérôme", LastName: "Hélias", Emails: []string{"jerome@exemple.fr"}},
		{FirstName: "Marc", LastName: "Dupré", Emails: []string{"marc.dupre@exemple.fr"}},
	} {
		_, err := f.ws.PutContact(ctx, c)
		require.NoError(t, err)
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"helene", []string{"Hélène"}},
		{"HÉLÈNE", []string{"Hélène"}},
		{"hel", []string{"Helena", "Hélène", "Jérôme"}},
		{"dupre", []string{"Hélène", "Marc"}},
		{"helene dupre", []string{"Hélène"}},
		{"marc.dupre@exemple.fr", []string{"Marc"}},
		{"612345678", []string{"Hélène"}},
		{"nobody", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, err := f.ws.SearchContacts(ctx, tt.query, contact.Page{})
			require.NoError(t, err)
			var got []string
			for _, c := range res.Contacts {
				got = append(got, c.FirstName)
			}
			assert.ElementsMatch(t, tt.want, got)
			assert.Equal(t, len(tt.want), res.Total)
		})
	}
	page, err := f.ws.SearchContacts(ctx, "hel", contact.Page{Offset: 1, Limit: 1})
	require.NoError(t, err)
	assert.Len(t, page.Contacts, 1)
	assert.Equal(t, 3, page.Total)

	_, err = f.ws.PutContact(ctx, contact.Contact{FirstName: "X", Emails: []string{"not an address"}})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	_, err = f.ws.PutContact(ctx, contact.Contact{FirstName: "X\r\nBcc: y"})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
}

func TestIdentifyBySenderAddress(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	known, err := f.ws.PutContact(ctx, contact.Contact{FirstName: "Hélène", LastName: "Dupré", Emails: []string{"helene.dupre@exemple.fr"}})
	require.NoError(t, err)

	// Case does not matter; plus-addressing is a different address.
	it, err := f.ws.Ingest(ctx, support, strings.NewReader("From: HELENE.DUPRE@Exemple.FR\r\nSubject: a\r\nMessage-ID: <a@x>\r\n\r\nhi\r\n"))
	require.NoError(t, err)
	assert.Equal(t, known.ID, it.ContactID)
	it, err = f.ws.Ingest(ctx, support, strings.NewReader("From: helene.dupre+shop@exemple.fr\r\nSubject: b\r\nMessage-ID: <b@x>\r\n\r\nhi\r\n"))
	require.NoError(t, err)
	assert.NotEqual(t, known.ID, it.ContactID)
	created, err := f.ws.Contact(ctx, it.ContactID)
	require.NoError(t, err)
	assert.Equal(t, []string{"helene.dupre+shop@exemple.fr"}, created.Emails, "kept as written")

	g := newFixture(t, &emailflow.Options{NoContactCreation: true})
	it, err = g.ws.Ingest(ctx, support, strings.NewReader("From: inconnu@exemple.fr\r\nSubject: c\r\nMessage-ID: <c@x>\r\n\r\nhi\r\n"))
	require.NoError(t, err)
	assert.Empty(t, it.ContactID)
}

func TestSeveralContactsShareAnAddress(t *testing.T) {
	ctx := context.Background()
	shared := "famille.martin@exemple.fr"
	setup := func(t *testing.T, opts *emailflow.Options) (*fixture, contact.Contact, contact.Contact) {
		f := newFixture(t, opts)
		older, err := f.ws.PutContact(ctx, contact.Contact{FirstName: "Paul", LastName: "Martin", Emails: []string{shared}})
		require.NoError(t, err)
		f.clock.Advance(time.Hour)
		newer, err := f.ws.PutContact(ctx, contact.Contact{FirstName: "Anne", LastName: "Martin", Emails: []string{shared, "anne@exemple.fr"}})
		require.NoError(t, err)
		return f, older, newer
	}
	raw := "From: " + shared + "\r\nSubject: Famille\r\nMessage-ID: <fam@x>\r\n\r\nhi\r\n"

	f, _, newer := setup(t, nil)
	it, err := f.ws.Ingest(ctx, support, strings.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, newer.ID, it.ContactID, "the most recently updated by default")

	var seen []string
	var mu sync.Mutex
	f, older, _ := setup(t, &emailflow.Options{ChooseContact: func(addr string, cands []contact.Contact) (contact.Contact, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cands {
			seen = append(seen, c.FirstName)
		}
		for _, c := range cands {
			if c.FirstName == "Paul" {
				return c, nil
			}
		}
		return contact.Contact{}, errors.New("ask an agent")
	}})
	it, err = f.ws.Ingest(ctx, support, strings.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, older.ID, it.ContactID, "the host's hook decides")
	assert.ElementsMatch(t, []string{"Paul", "Anne"}, seen)

	f, _, _ = setup(t, &emailflow.Options{ChooseContact: func(string, []contact.Contact) (contact.Contact, error) {
		return contact.Contact{}, errors.New("ambiguous")
	}})
	it, err = f.ws.Ingest(ctx, support, strings.NewReader(raw))
	require.NoError(t, err, "a refused choice never loses the mail")
	assert.Empty(t, it.ContactID)
}

func TestContactHistory(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	first := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, first)
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	require.NoError(t, f.ws.As("alice").MarkDone(ctx, first))
	f.clock.Advance(time.Hour)
	second := f.ingest(t, mailFrom("helene.dupre@exemple.fr", "second", "Toujours rien"))
	it, err := f.ws.As(admin).Interaction(ctx, first)
	require.NoError(t, err)

	items, total, err := f.ws.As("alice").ContactHistory(ctx, it.ContactID, contact.Page{})
	require.NoError(t, err)
	assert.Equal(t, 3, total)
	require.Len(t, items, 3)
	assert.Equal(t, second, items[0].InteractionID, "newest first")
	assert.Equal(t, "Toujours rien", items[0].Subject)
	assert.Equal(t, interaction.StateOffered, items[0].State)
	assert.Equal(t, r.ID, items[1].InteractionID)
	assert.Equal(t, interaction.StateSent, items[1].State)
	assert.Equal(t, first, items[2].InteractionID)
	assert.Equal(t, interaction.StateDone, items[2].State)
	assert.Equal(t, "alice", items[2].Agent)
	assert.Equal(t, "Commande FR-2291 : colis non reçu", items[2].Subject)

	page, total, err := f.ws.As("alice").ContactHistory(ctx, it.ContactID, contact.Page{Offset: 2, Limit: 5})
	require.NoError(t, err)
	assert.Equal(t, 3, total)
	require.Len(t, page, 1)
	assert.Equal(t, first, page[0].InteractionID)

	// Opening from the history, and forwarding from it.
	f.agent(t, "bob")
	opened, emails, err := f.ws.As("bob").OpenInteraction(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, opened.State)
	require.Len(t, emails, 1)
	assert.Contains(t, emails[0].Text, "Pouvez-vous vérifier")
	fw, err := f.ws.As("bob").ForwardFromHistory(ctx, first, emailflow.ForwardRequest{To: []mail.Address{{Address: "litiges@transport.example"}}, Instructions: "Pour info"})
	require.NoError(t, err)
	_, err = f.ws.As("bob").Send(ctx, fw.ID, nil)
	require.NoError(t, err)
	out := f.sender.Sent()
	require.Len(t, out, 2)
	assert.Equal(t, []string{"litiges@transport.example"}, out[1].To)

	// Without the history privilege.
	g := newFixture(t, &emailflow.Options{Privileges: map[emailflow.Role][]emailflow.Privilege{emailflow.RoleAgent: {emailflow.PrivilegeHandle, emailflow.PrivilegeForward}}})
	g.agent(t, "alice")
	id := g.handled(t, "alice")
	g.agent(t, "bob")
	_, _, err = g.ws.As("bob").ContactHistory(ctx, "x", contact.Page{})
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	_, _, err = g.ws.As("bob").OpenInteraction(ctx, id)
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	_, _, err = g.ws.As("alice").OpenInteraction(ctx, id)
	assert.NoError(t, err, "the owner may")
	_, err = g.ws.As("bob").ForwardFromHistory(ctx, id, emailflow.ForwardRequest{To: []mail.Address{{Address: "a@b.example"}}})
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
}

func mailFrom(from, id, subject string) []byte {
	return []byte("From: " + from + "\r\nTo: support@boutique.example\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + id + "@exemple.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n")
}

type dialer struct {
	calls []string
	fail  error
}

func (d *dialer) Dial(_ context.Context, agent, number, interaction string) (string, error) {
	if d.fail != nil {
		return "", d.fail
	}
	d.calls = append(d.calls, agent+" "+number+" "+interaction)
	return "call-1", nil
}

func TestCallingTheContact(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)

	can, err := f.ws.CanCall(ctx, it.ContactID)
	require.NoError(t, err)
	assert.False(t, can, "no telephony, no number")
	_, err = f.ws.As("alice").Call(ctx, id, "")
	assert.ErrorIs(t, err, emailflow.ErrNoTelephony)

	d := &dialer{}
	ws, err := emailflow.New(emailflow.Ports{Store: f.store, Sender: f.sender, Clock: f.clock, Dialer: d}, nil)
	require.NoError(t, err)
	_, err = ws.As("alice").Call(ctx, id, "")
	assert.ErrorIs(t, err, emailflow.ErrNoPhoneNumber)
	can, err = ws.CanCall(ctx, it.ContactID)
	require.NoError(t, err)
	assert.False(t, can)

	c, err := ws.Contact(ctx, it.ContactID)
	require.NoError(t, err)
	c.Phones = []string{"+33 6 12 34 56 78"}
	_, err = ws.PutContact(ctx, c)
	require.NoError(t, err)
	can, err = ws.CanCall(ctx, it.ContactID)
	require.NoError(t, err)
	assert.True(t, can)

	_, err = ws.As("bob").Call(ctx, id, "")
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	callID, err := ws.As("alice").Call(ctx, id, "")
	require.NoError(t, err)
	assert.Equal(t, "call-1", callID)
	assert.Equal(t, []string{"alice +33 6 12 34 56 78 " + id}, d.calls)
	it, err = ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	last := it.History[len(it.History)-1]
	assert.Equal(t, "call", last.Action)
	assert.Equal(t, "+33 6 12 34 56 78 call-1", last.Detail)

	d.fail = errors.New("line busy")
	_, err = ws.As("alice").Call(ctx, id, "")
	assert.ErrorContains(t, err, "line busy")
}

func TestNewEmail(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{
		Mailboxes: []emailflow.Mailbox{
			{Address: support, Name: "Service Client", Queue: "support-fr"},
			{Address: "factures@boutique.example", Name: "Facturation", Queue: "billing"},
		},
		Signatures: signatures(map[string]string{"alice": "{{agent.name}}, Service Client"}, map[string]string{"factures@boutique.example": "Le service facturation"}),
	})
	f.agent(t, "alice")
	f.agent(t, "bob")
	hel, err := f.ws.PutContact(ctx, contact.Contact{FirstName: "Hélène", LastName: "Dupré", Emails: []string{"helene.dupre@exemple.fr", "h.dupre@travail.example"}})
	require.NoError(t, err)

	// To the contact's primary address, from the agent's queue mailbox.
	o, err := f.ws.As("alice").NewEmail(ctx, emailflow.NewEmailRequest{ContactID: hel.ID, Subject: "Votre avoir", Text: "Bonjour,"})
	require.NoError(t, err)
	assert.Equal(t, interaction.PurposeNew, o.Purpose)
	assert.Equal(t, hel.ID, o.ContactID)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, o.ID))
	require.NoError(t, err)
	assert.Equal(t, []mail.Address{{Name: "Hélène Dupré", Address: "helene.dupre@exemple.fr"}}, d.To)
	assert.Equal(t, mail.Address{Name: "Service Client", Address: support}, d.From)
	assert.Equal(t, "Bonjour,\n-- \nAlice, Service Client\n", d.Text)

	// A chosen address of the contact, from an explicit mailbox, during a call.
	o2, err := f.ws.As("bob").NewEmail(ctx, emailflow.NewEmailRequest{ContactID: hel.ID, ContactAddress: "H.Dupre@travail.example", From: "factures@boutique.example", VoiceInteractionID: "voice-77", Subject: "Suite à notre appel"})
	require.NoError(t, err)
	v, ok := o2.CaseData.Get(emailflow.CaseVoiceInteraction)
	require.True(t, ok)
	assert.Equal(t, "voice-77", v)
	d, err = draftEmail(f.ws.As("bob").Draft(ctx, o2.ID))
	require.NoError(t, err)
	assert.Equal(t, "H.Dupre@travail.example", d.To[0].Address)
	assert.Equal(t, "factures@boutique.example", d.From.Address)
	assert.Contains(t, d.Text, "Le service facturation")
	_, err = f.ws.As("bob").Send(ctx, o2.ID, nil)
	require.NoError(t, err)
	sent, err := compose.Parse(bytes.NewReader(f.sender.Sent()[0].Raw), nil)
	require.NoError(t, err)
	assert.Equal(t, "Suite à notre appel", sent.Subject)
	assert.Empty(t, sent.InReplyTo)

	// To a colleague from the team directory.
	team, total, err := f.ws.SearchTeam(ctx, "BOB", contact.Page{})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	o3, err := f.ws.As("alice").NewEmail(ctx, emailflow.NewEmailRequest{AgentID: team[0].ID, Subject: "Dossier FR-2291"})
	require.NoError(t, err)
	d, err = draftEmail(f.ws.As("alice").Draft(ctx, o3.ID))
	require.NoError(t, err)
	assert.Equal(t, "bob@boutique.example", d.To[0].Address)

	// Drafts: saved to the drafts workbin, then discarded.
	require.NoError(t, f.ws.As("alice").SaveToWorkbin(ctx, o3.ID, emailflow.WorkbinRef{}))
	drafts, err := f.ws.As("alice").Workbin(ctx, emailflow.WorkbinRef{Bin: emailflow.WorkbinDrafts})
	require.NoError(t, err)
	require.Len(t, drafts, 1)
	assert.ErrorIs(t, f.ws.As("bob").DiscardDraft(ctx, o3.ID), emailflow.ErrForbidden)
	require.NoError(t, f.ws.As("alice").DiscardDraft(ctx, o3.ID))
	drafts, err = f.ws.As("alice").Workbin(ctx, emailflow.WorkbinRef{Bin: emailflow.WorkbinDrafts})
	require.NoError(t, err)
	assert.Empty(t, drafts)
	gone, err := f.ws.As(admin).Interaction(ctx, o3.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDeleted, gone.State)
	assert.ErrorIs(t, f.ws.As("bob").DiscardDraft(ctx, o2.ID), emailflow.ErrInvalidTransition, "a sent email is not a draft")

	// Refusals.
	for name, req := range map[string]emailflow.NewEmailRequest{
		"no recipient":              {Subject: "x"},
		"address not the contact's": {ContactID: hel.ID, ContactAddress: "other@exemple.fr"},
		"not our mailbox":           {ContactID: hel.ID, From: "me@gmail.example"},
		"header injection":          {ContactID: hel.ID, Subject: "a\r\nBcc: x@y.example"},
		"NUL in the text":           {ContactID: hel.ID, Subject: "x", Text: "a\x00b"},
	} {
		_, err := f.ws.As("alice").NewEmail(ctx, req)
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput, name)
	}
	_, err = f.ws.As("alice").NewEmail(ctx, emailflow.NewEmailRequest{ContactID: "nobody"})
	assert.ErrorIs(t, err, emailflow.ErrNotFound)
	_, err = f.ws.As("alice").NewEmail(ctx, emailflow.NewEmailRequest{AgentID: "nobody"})
	assert.ErrorIs(t, err, emailflow.ErrNotFound)
}

func signatures(byAgent, byMailbox map[string]string) *compose.Signatures {
	s := &compose.Signatures{}
	for a, text := range byAgent {
		s.SetAgent(a, compose.Signature{Text: text})
	}
	for m, text := range byMailbox {
		s.SetMailbox(m, compose.Signature{Text: text})
	}
	return s
}

func TestSignatureOnReplies(t *testing.T) {
	ctx := context.Background()
	sigs := &compose.Signatures{}
	sigs.SetMailbox(support, compose.Signature{Text: "Service Client\nBoutique", HTML: "<b>Service Client</b>"})
	f := newFixture(t, &emailflow.Options{Signatures: sigs})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(d.Text, "\n-- \nService Client\nBoutique\n"), d.Text)
	assert.Less(t, strings.Index(d.Text, "Boutique"), strings.Index(d.Text, "> Bonjour"), "above the quote")
	assert.Contains(t, d.HTML, "<b>Service Client</b>")
	assert.Less(t, strings.Index(d.HTML, "<b>Service Client</b>"), strings.Index(d.HTML, "blockquote"), "above the quote")
}
