package port

import (
	"maps"
	"slices"
	"time"
)

// AgentStatus is an agent's availability for routing.
type AgentStatus string

// Agent statuses.
const (
	StatusLoggedOut     AgentStatus = "logged-out"
	StatusNotReady      AgentStatus = "not-ready"
	StatusReady         AgentStatus = "ready"
	StatusNotResponding AgentStatus = "not-responding" // set when an offer timed out
)

// String returns the status name.
func (s AgentStatus) String() string { return string(s) }

// Role is what an agent may be in the centre.
type Role string

// Roles.
const (
	RoleAgent      Role = "agent"
	RoleReviewer   Role = "reviewer"
	RoleSupervisor Role = "supervisor"
	// RoleAdmin is the host's administrator (or a back-office service
	// acting for the host): by default it sees every interaction and
	// changes nothing.
	RoleAdmin Role = "admin"
)

// String returns the role name.
func (r Role) String() string { return string(r) }

// Agent is an agent's identity and routing state.
type Agent struct {
	ID       string
	Name     string
	Address  string // the agent's own email address
	Status   AgentStatus
	Queues   []string // queues the agent serves
	Capacity int      // interactions at once; 0 means 1
	Roles    []Role   // nil means RoleAgent
	// Skills are the agent's skills with their levels, matched against the
	// skills a queue or route requires.
	Skills map[string]int
	// Languages are the languages the agent answers in ("fr", "de").
	Languages []string
	// Groups are the teams the agent belongs to (for QA policies, reports).
	Groups []string
	// IdleSince is when the agent last had nothing to do; routing offers to
	// the longest idle first.
	IdleSince time.Time
	UpdatedAt time.Time
}

// Clone returns a deep copy.
func (a *Agent) Clone() *Agent {
	if a == nil {
		return nil
	}
	c := *a
	c.Queues = slices.Clone(a.Queues)
	c.Roles = slices.Clone(a.Roles)
	c.Languages = slices.Clone(a.Languages)
	c.Groups = slices.Clone(a.Groups)
	c.Skills = maps.Clone(a.Skills)
	return &c
}

// Serves reports whether the agent serves queue.
func (a *Agent) Serves(queue string) bool { return slices.Contains(a.Queues, queue) }

// HasRole reports whether the agent has role r (RoleAgent when no role is set).
func (a *Agent) HasRole(r Role) bool {
	if len(a.Roles) == 0 {
		return r == RoleAgent
	}
	return slices.Contains(a.Roles, r)
}

// RoleNames lists the agent's roles by name: "agent" when none is set.
func (a *Agent) RoleNames() []string {
	if len(a.Roles) == 0 {
		return []string{string(RoleAgent)}
	}
	out := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		out[i] = string(r)
	}
	return out
}

// MaxLoad is how many interactions the agent takes at once: Capacity, or
// 1 when Capacity is not set.
func (a *Agent) MaxLoad() int {
	if a.Capacity <= 0 {
		return 1
	}
	return a.Capacity
}
