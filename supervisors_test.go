package emailflow_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// Supervisors (and team leads with the role) review by default, never
// their own email.
func TestSupervisorsReviewByDefault(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	f.agent(t, "alice")
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "sue", Queues: []string{"support-fr", "review"}, Capacity: 5, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	require.NoError(t, f.ws.As("sue").SetStatus(ctx, emailflow.StatusNotReady))

	// Pulled from the review queue, approved.
	_, out, review := f.submitted(t, "Bonjour, c'est en route.")
	got, err := f.ws.As("sue").Pull(ctx, "review")
	require.NoError(t, err, "a supervisor serving the review queue pulls reviews")
	assert.Equal(t, review, got.ID)
	o, err := f.ws.As("sue").Approve(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
	require.Len(t, f.sender.Sent(), 1)
	rounds, err := f.ws.As("sue").Rounds(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, "sue", rounds[0].Reviewer)

	// Offered, when ready.
	answer := func(agent, mailID string) string {
		t.Helper()
		id := f.ingest(t, newMail(mailID))
		_, err := f.ws.As(agent).Accept(ctx, id)
		require.NoError(t, err)
		r, err := f.ws.As(agent).Reply(ctx, id)
		require.NoError(t, err)
		setText(t, f, agent, r.ID, "Réponse")
		_, err = f.ws.As(agent).Send(ctx, r.ID, nil)
		require.NoError(t, err)
		return f.reviewOf(t, r.ID)
	}
	review = answer("alice", "second")
	require.NoError(t, f.ws.As("sue").SetStatus(ctx, emailflow.StatusReady))
	rv, err := f.ws.As("sue").Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, "sue", rv.OfferedTo)
	_, err = f.ws.As("sue").Accept(ctx, review)
	require.NoError(t, err)

	// Her own email: never offered to her, never pulled, never decided by her.
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusNotReady))
	own := answer("sue", "sue-own")
	rv, err = f.ws.As(admin).Interaction(ctx, own)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, rv.State, "not offered to its author")
	assert.Equal(t, []string{"sue"}, rv.Excluded)
	_, err = f.ws.As("sue").Pull(ctx, "review")
	assert.ErrorIs(t, err, emailflow.ErrNotFound, "nor pulled by her")
	_, err = f.ws.As("sue").Approve(ctx, own)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "four eyes")
	assert.Len(t, f.sender.Sent(), 1, "her email waits for another reviewer")
}

// A host narrows reviewing to the reviewer role by giving the review queue
// that role, or by taking the privilege from supervisors.
func TestHostsNarrowWhoReviews(t *testing.T) {
	ctx := context.Background()
	for name, opts := range map[string]*emailflow.Options{
		"queue role": {Queues: []emailflow.Queue{{Name: "review", Role: emailflow.RoleReviewer}}},
		"privileges": {Privileges: map[emailflow.Role][]emailflow.Privilege{
			emailflow.RoleAgent:      emailflow.DefaultPrivileges[emailflow.RoleAgent],
			emailflow.RoleReviewer:   emailflow.DefaultPrivileges[emailflow.RoleReviewer],
			emailflow.RoleSupervisor: {emailflow.PrivilegeHandle, emailflow.PrivilegePull, emailflow.PrivilegeAssign},
			emailflow.RoleAdmin:      emailflow.DefaultPrivileges[emailflow.RoleAdmin],
		}},
	} {
		t.Run(name, func(t *testing.T) {
			opts := *opts
			opts.ReviewPolicy = reviewAll().ReviewPolicy
			f := newFixture(t, &opts)
			f.agent(t, "alice")
			require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "sue", Queues: []string{"review"}, Capacity: 5, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
			require.NoError(t, f.ws.As("sue").SetStatus(ctx, emailflow.StatusReady))
			_, _, review := f.submitted(t, "Texte")
			rv, err := f.ws.As(admin).Interaction(ctx, review)
			require.NoError(t, err)
			assert.Equal(t, interaction.StateQueued, rv.State, "not offered to the supervisor")
			_, err = f.ws.As("sue").Pull(ctx, "review")
			assert.ErrorIs(t, err, emailflow.ErrNotFound)
		})
	}
}
