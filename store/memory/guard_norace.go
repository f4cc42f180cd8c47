//go:build !race

package memory

import (
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// guard checks, in race builds only, that values the store took are not
// changed after their write (see guard_race.go). Here it does nothing.
type guard struct{}

func (guard) tookInteraction(*interaction.Interaction)  {}
func (guard) droppedInteraction(string)                 {}
func (guard) checkInteraction(*interaction.Interaction) {}
func (guard) tookEmail(*port.Email)                     {}
func (guard) droppedEmail(string)                       {}
func (guard) checkEmail(*port.Email)                    {}
func (guard) interactionSnapshot(string) any            { return nil }
func (guard) restoreInteraction(string, any)            {}
func (guard) emailSnapshot(string) any                  { return nil }
func (guard) restoreEmail(string, any)                  {}
