//go:build race

package memory

import (
	"fmt"
	"reflect"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// guard, in builds with the race detector (the way the tests run), holds a
// copy of every interaction and email the store took, and panics when one
// is found changed after it was written: the Tx contract forbids it, and
// such a change would bypass versions and indexes unseen. Plain builds
// keep nothing (guard_norace.go).
type guard struct {
	interactions map[string]*interaction.Interaction
	emails       map[string]*port.Email
}

func (g *guard) tookInteraction(it *interaction.Interaction) {
	if g.interactions == nil {
		g.interactions = map[string]*interaction.Interaction{}
	}
	g.interactions[it.ID] = it.Clone()
}

func (g *guard) droppedInteraction(id string) { delete(g.interactions, id) }

// interactionSnapshot and restoreInteraction let a rollback put back the
// snapshot a write replaced, rather than take a new one that would hide a
// change made behind the store's back.
func (g *guard) interactionSnapshot(id string) any { return g.interactions[id] }

func (g *guard) restoreInteraction(id string, snap any) {
	if s, ok := snap.(*interaction.Interaction); ok && s != nil {
		g.interactions[id] = s
		return
	}
	delete(g.interactions, id)
}

func (g *guard) checkInteraction(it *interaction.Interaction) {
	if want, ok := g.interactions[it.ID]; ok && !reflect.DeepEqual(want, it.Clone()) {
		panic(fmt.Sprintf("memory: interaction %s was changed after it was written (version %d)", it.ID, it.Version))
	}
}

func (g *guard) tookEmail(e *port.Email) {
	if g.emails == nil {
		g.emails = map[string]*port.Email{}
	}
	g.emails[e.ID] = e.Clone()
}

func (g *guard) droppedEmail(id string) { delete(g.emails, id) }

func (g *guard) emailSnapshot(id string) any { return g.emails[id] }

func (g *guard) restoreEmail(id string, snap any) {
	if s, ok := snap.(*port.Email); ok && s != nil {
		g.emails[id] = s
		return
	}
	delete(g.emails, id)
}

func (g *guard) checkEmail(e *port.Email) {
	if want, ok := g.emails[e.ID]; ok && !reflect.DeepEqual(want, e.Clone()) {
		panic(fmt.Sprintf("memory: email %s was changed after it was written", e.ID))
	}
}
