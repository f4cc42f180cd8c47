package emailflow

// Actor is an agent acting through a Workspace: a supervisor, a reviewer
// or the host's administrator is an actor too. Every action and every read
// about what an agent may see is a method of Actor, so the acting agent is
// named once, where the host maps its authenticated user, and never passed
// beside an interaction's id where the two could be swapped.
//
// An Actor is a value to make per request: it holds only the Workspace and
// the agent's id, and checks nothing until it is used. Every method loads
// the agent and checks their privileges in the action's transaction; an
// id that names no agent is refused with ErrForbidden.
type Actor struct {
	w  *Workspace
	id string
}

// As returns the actor agentID acting through w. The Workspace trusts the
// id it is given: the host authenticates its users.
func (w *Workspace) As(agentID string) *Actor { return &Actor{w: w, id: agentID} }

// ID returns the acting agent's id.
func (ac *Actor) ID() string { return ac.id }
