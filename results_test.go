package emailflow_test

import (
	"context"
	"errors"
	"net/mail"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
)

// Send tells from its return value alone what became of the email: sent,
// in the outbox for a retry, refused for good at once, waiting for a
// reviewer; with the email as rendered and its Message-ID.
func TestSendReturnsTheEmailAndItsDelivery(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		opts      *emailflow.Options
		fail      error
		state     emailflow.DeliveryState
		outbound  interaction.State
		reason    string
		attempts  int
		retryLate bool
	}{
		{"sent", nil, nil, emailflow.DeliverySent, interaction.StateSent, "", 1, false},
		{"refused for a while", nil, errors.New("421 try later"), emailflow.DeliveryQueued, interaction.StateOutbox, "421 try later", 1, true},
		{"refused for good", nil, refusal{permanent: true}, emailflow.DeliveryFailed, interaction.StateFailed, "refused", 1, false},
		{"manual dispatch", &emailflow.Options{ManualDispatch: true}, nil, emailflow.DeliveryQueued, interaction.StateOutbox, "", 0, false},
		{"under review", &emailflow.Options{ReviewPolicy: qa.All()}, nil, emailflow.DeliveryInReview, interaction.StateInReview, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			f.agent(t, "alice")
			id := f.handled(t, "alice")
			d, err := f.ws.As("alice").Reply(ctx, id)
			require.NoError(t, err)
			f.sender.Fail(tt.fail)

			sent, err := f.ws.As("alice").Send(ctx, d.ID, nil)
			require.NoError(t, err, "a delivery that failed is no error of Send")
			assert.Equal(t, tt.state, sent.Delivery.State)
			assert.Equal(t, tt.outbound, sent.State, "the outbound as it now stands")
			assert.Equal(t, tt.reason, sent.Delivery.Reason)
			assert.Equal(t, tt.attempts, sent.Delivery.Attempts)
			assert.Equal(t, tt.retryLate, sent.Delivery.NextAttempt.After(f.clock.Now()), "a retry is due later")
			assert.Equal(t, d.Email.MessageID, sent.Email.MessageID)
			if tt.state == emailflow.DeliverySent {
				require.Len(t, f.sender.Sent(), 1)
				assert.Equal(t, f.sender.Sent()[0].Raw, sent.Email.Raw, "the bytes sent")
			}
			stored, err := f.ws.As(admin).Interaction(ctx, d.ID)
			require.NoError(t, err)
			assert.Equal(t, stored.State, sent.State, "no need to read it again")
		})
	}
}

// Every starter returns the draft, interaction and email, as Draft reads
// it.
func TestStartersReturnTheDraft(t *testing.T) {
	ctx := context.Background()
	to := []mail.Address{{Address: "transporteur@partner.example"}}
	starters := []struct {
		name  string
		start func(a *emailflow.Actor, inbound string) (*emailflow.Draft, error)
		to    string
	}{
		{"Reply", func(a *emailflow.Actor, id string) (*emailflow.Draft, error) { return a.Reply(ctx, id) }, "helene.dupre@exemple.fr"},
		{"ReplyAll", func(a *emailflow.Actor, id string) (*emailflow.Draft, error) { return a.ReplyAll(ctx, id) }, "helene.dupre@exemple.fr"},
		{"Forward", func(a *emailflow.Actor, id string) (*emailflow.Draft, error) {
			return a.Forward(ctx, id, emailflow.ForwardRequest{To: to, Instructions: "Où est ce colis ?"})
		}, "transporteur@partner.example"},
		{"ForwardFromHistory", func(a *emailflow.Actor, id string) (*emailflow.Draft, error) {
			return a.ForwardFromHistory(ctx, id, emailflow.ForwardRequest{To: to})
		}, "transporteur@partner.example"},
		{"NewEmail", func(a *emailflow.Actor, _ string) (*emailflow.Draft, error) {
			return a.NewEmail(ctx, emailflow.NewEmailRequest{To: to, Subject: "Colis FR-2291", Text: "Bonjour"})
		}, "transporteur@partner.example"},
	}
	for _, s := range starters {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.agent(t, "alice")
			id := f.handled(t, "alice")
			d, err := s.start(f.ws.As("alice"), id)
			require.NoError(t, err)
			assert.Equal(t, interaction.KindOutbound, d.Kind)
			assert.Equal(t, interaction.StateDraft, d.State)
			require.NotNil(t, d.Email)
			assert.Equal(t, d.ID, d.Email.InteractionID)
			require.NotEmpty(t, d.Email.To)
			assert.Equal(t, s.to, d.Email.To[0].Address)
			assert.NotEmpty(t, d.Email.MessageID)
			assertStored(t, f, "alice", d)
		})
	}
}

// A colleague's answer has a typed place on the interaction consulted
// about, and the owner's event carries it; the note still tells it.
func TestConsultAnswerHasATypedPlace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	f.agent(t, "bob")
	id := f.handled(t, "alice")
	cs, err := f.ws.As("alice").Consult(ctx, id, []string{"bob"}, "Un retour possible après 30 jours ?")
	require.NoError(t, err)
	require.Len(t, cs, 1)
	_, err = f.ws.As("bob").Accept(ctx, cs[0].ID)
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	require.NoError(t, f.ws.As("bob").Answer(ctx, cs[0].ID, "Oui, avec le bon de retour."))

	it, err := f.ws.As("alice").Interaction(ctx, id)
	require.NoError(t, err)
	require.Len(t, it.Answers, 1)
	assert.Equal(t, interaction.Answer{ConsultID: cs[0].ID, Colleague: "bob", Text: "Oui, avec le bon de retour.", At: f.clock.Now()}, it.Answers[0])
	assert.Equal(t, "Oui, avec le bon de retour.", it.Notes[len(it.Notes)-1].Text)

	events, err := f.ws.As("alice").Events(ctx, 0, 0)
	require.NoError(t, err)
	var answered []emailflow.Event
	for _, e := range events {
		if e.Type == emailflow.EventAnswered {
			answered = append(answered, e)
		}
	}
	require.Len(t, answered, 1)
	require.NotNil(t, answered[0].Answer)
	assert.Equal(t, it.Answers[0], *answered[0].Answer)
}

// A reviewer's decision has a typed place (LastReview on the outbound)
// and the author's event carries it.
func TestReviewOutcomeHasATypedPlace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ReviewPolicy: qa.All(), RejectReasons: []string{"ton", "exactitude"}})
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	_, out, review := f.submitted(t, "Bonjour, ça arrive.")
	_, ok := mustInteraction(t, f, out).LastReview()
	assert.False(t, ok, "nothing decided yet")
	_, err := f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	_, err = f.ws.As("rita").Reject(ctx, review, "exactitude", "Le numéro de suivi manque.")
	require.NoError(t, err)

	r, ok := mustInteraction(t, f, out).LastReview()
	require.True(t, ok)
	assert.Equal(t, "rita", r.Reviewer)
	assert.Equal(t, interaction.DecisionRejected, r.Decision)
	assert.Equal(t, "exactitude", r.Reason)
	assert.Equal(t, "Le numéro de suivi manque.", r.Remarks)
	assert.Equal(t, f.clock.Now(), r.DecidedAt)

	events, err := f.ws.As("alice").Events(ctx, 0, 0)
	require.NoError(t, err)
	var rejected *emailflow.Event
	for i := range events {
		if events[i].Type == emailflow.EventRejected {
			rejected = &events[i]
		}
	}
	require.NotNil(t, rejected)
	require.NotNil(t, rejected.Review)
	assert.Equal(t, r, *rejected.Review)
}

func mustInteraction(t *testing.T, f *fixture, id string) *interaction.Interaction {
	t.Helper()
	it, err := f.ws.As(admin).Interaction(context.Background(), id)
	require.NoError(t, err)
	return it
}

// The actor is named once; every call on it, reads included, is checked
// for that agent.
func TestActorCarriesTheAgent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	f.agent(t, "bob")
	id := f.handled(t, "alice")
	alice, bob, nobody := f.ws.As("alice"), f.ws.As("bob"), f.ws.As("mallory")
	assert.Equal(t, "alice", alice.ID())

	_, err := alice.Interaction(ctx, id)
	assert.NoError(t, err)
	_, err = bob.Interaction(ctx, id)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "a read is checked like an action")
	_, err = bob.Reply(ctx, id)
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	_, err = nobody.Emails(ctx, id)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "an id naming no agent")
	assert.ErrorIs(t, f.ws.As("").AddNote(ctx, id, "x"), emailflow.ErrForbidden)
}

// One call lists a workbin: the actor's own, a team's, or another agent's
// for a supervisor.
func TestWorkbinIsOneCall(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{TeamWorkbins: []string{"escalade"}})
	f.agent(t, "alice")
	f.agent(t, "bob")
	f.agent(t, "sam", emailflow.RoleSupervisor)
	mine := f.handled(t, "alice")
	require.NoError(t, f.ws.As("alice").SaveToWorkbin(ctx, mine, emailflow.WorkbinRef{}))
	team := f.ingest(t, newMail("team"))
	to := mustInteraction(t, f, team).OfferedTo
	_, err := f.ws.As(to).Accept(ctx, team)
	require.NoError(t, err)
	require.NoError(t, f.ws.As(to).SaveToWorkbin(ctx, team, emailflow.WorkbinRef{Bin: "escalade"}))

	ids := func(its []*interaction.Interaction) []string {
		var out []string
		for _, it := range its {
			out = append(out, it.ID)
		}
		return out
	}
	tests := []struct {
		name  string
		actor string
		ref   emailflow.WorkbinRef
		want  []string
		err   error
	}{
		{"own", "alice", emailflow.WorkbinRef{Bin: emailflow.WorkbinInProgress}, []string{mine}, nil},
		{"own, named", "alice", emailflow.WorkbinRef{Owner: "alice", Bin: emailflow.WorkbinInProgress}, []string{mine}, nil},
		{"team", "bob", emailflow.WorkbinRef{Bin: "escalade"}, []string{team}, nil},
		{"a colleague's, as a supervisor", "sam", emailflow.WorkbinRef{Owner: "alice", Bin: emailflow.WorkbinInProgress}, []string{mine}, nil},
		{"a colleague's, as an agent", "bob", emailflow.WorkbinRef{Owner: "alice", Bin: emailflow.WorkbinInProgress}, nil, emailflow.ErrForbidden},
		{"no name", "alice", emailflow.WorkbinRef{}, nil, emailflow.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.ws.As(tt.actor).Workbin(ctx, tt.ref)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, ids(got))
		})
	}
	err = f.ws.As("alice").SaveToWorkbin(ctx, mine, emailflow.WorkbinRef{Owner: "bob", Bin: emailflow.WorkbinInProgress})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "parking in another's workbin is Assign")
}
