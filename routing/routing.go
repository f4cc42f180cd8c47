package routing

import (
	"cmp"
	"slices"
	"time"
)

// Agent is what routing needs to know of an agent.
//
// Values handed out by a Store share their maps and slices with it: treat
// them as read-only.
type Agent struct {
	ID        string
	Ready     bool
	Skills    map[string]int // skill → level
	Languages []string
	Roles     []string
	Capacity  int // interactions at once; at least 1
	Load      int // interactions offered to or handled by the agent now
	IdleSince time.Time
}

// Item is what routing needs to know of a waiting interaction.
// Values handed out by a Store share their maps and slices with it: treat
// them as read-only.
type Item struct {
	ID       string
	Queue    string
	Priority int
	QueuedAt time.Time
	Skills   map[string]int // required skill → minimum level
	Language string
	// Declined lists the agents who declined it, oldest decline first.
	Declined []string
	// Excluded lists agents it must never go to, offered or pulled (the
	// author of an email under review: four eyes).
	Excluded []string
	// Preferred is the only agent the item may go to before PreferUntil.
	Preferred   string
	PreferUntil time.Time
}

// Queue is what routing needs to know of a queue: what it requires of
// every agent, on top of each item's own requirements.
type Queue struct {
	Skills map[string]int // required skill → minimum level
	// Roles, when set, are the roles of which an agent needs one (the
	// roles holding the review privilege, for a review queue).
	Roles []string
}

// HasSkills reports whether the agent holds every required skill at the
// required level or above.
func (a *Agent) HasSkills(required map[string]int) bool {
	for skill, level := range required {
		if a.Skills[skill] < level {
			return false
		}
	}
	return true
}

// Speaks reports whether the agent speaks lang ("" is spoken by all).
func (a *Agent) Speaks(lang string) bool {
	return lang == "" || slices.Contains(a.Languages, lang)
}

// Free reports whether the agent can take one more interaction.
func (a *Agent) Free() bool { return a.Load < max(a.Capacity, 1) }

// Reason says why an agent is not eligible for an item ("" when it is).
type Reason string

// Reasons an agent is not eligible.
const (
	Eligible    Reason = ""
	NotReady    Reason = "not ready"
	AtCapacity  Reason = "at capacity"
	LacksSkill  Reason = "lacks a required skill"
	NoLanguage  Reason = "does not speak the language"
	HasDeclined Reason = "declined it before"
	NotSticky   Reason = "reserved for the agent who last handled the thread"
	LacksRole   Reason = "lacks the role the queue requires"
	Excluded    Reason = "may never take it"
)

// String returns the reason's text.
func (r Reason) String() string { return string(r) }

// Check tells whether agent a may be offered item it of queue q at now,
// and if not, why. A nil q requires nothing.
func Check(q *Queue, a *Agent, it *Item, now time.Time) Reason {
	switch {
	case !a.Ready:
		return NotReady
	case !a.Free():
		return AtCapacity
	}
	if r := CheckPull(q, a, it, now); r != Eligible {
		return r
	}
	if slices.Contains(it.Declined, a.ID) {
		return HasDeclined
	}
	return Eligible
}

// CheckPull tells whether agent a may take item it of queue q at now by
// their own choice (a pull), and if not, why: as Check, except that the
// agent's status, load and earlier decline of it do not count.
func CheckPull(q *Queue, a *Agent, it *Item, now time.Time) Reason {
	switch {
	case slices.Contains(it.Excluded, a.ID):
		return Excluded
	case it.Preferred != "" && it.Preferred != a.ID && now.Before(it.PreferUntil):
		return NotSticky
	case q != nil && len(q.Roles) > 0 && !hasAny(a.Roles, q.Roles):
		return LacksRole
	case !a.HasSkills(it.Skills) || q != nil && !a.HasSkills(q.Skills):
		return LacksSkill
	case !a.Speaks(it.Language):
		return NoLanguage
	}
	return Eligible
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// CompareAgents orders agents best first: longest idle, then least loaded,
// then by id so the order is total.
func CompareAgents(a, b *Agent) int {
	if c := a.IdleSince.Compare(b.IdleSince); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Load, b.Load); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// CompareItems orders waiting items first served first: highest priority,
// then oldest, then by id.
func CompareItems(a, b *Item) int {
	if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
		return c
	}
	if c := a.QueuedAt.Compare(b.QueuedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// PickAgent returns the index of the best agent of candidates eligible for
// item it of queue q, or -1.
func PickAgent(q *Queue, it *Item, candidates []Agent, now time.Time) int {
	best := -1
	for i := range candidates {
		if Check(q, &candidates[i], it, now) != Eligible {
			continue
		}
		if best < 0 || CompareAgents(&candidates[i], &candidates[best]) < 0 {
			best = i
		}
	}
	return best
}

// Lift decides what becomes of item it of queue q once agents declined it,
// given the agents of its queue who are logged in (their status and load
// do not count). While one of those who could take it (see CheckPull) has
// not declined it, it waits for them and Lift returns "". Once every one
// of them has, Lift returns the one among them who declined it the longest
// ago, whose decline is to be lifted: mail never waits for agents who all
// refused it. It returns "" too when none of them could take it.
func Lift(q *Queue, it *Item, agents []Agent, now time.Time) string {
	oldest, at := "", len(it.Declined)
	for i := range agents {
		a := &agents[i]
		if CheckPull(q, a, it, now) != Eligible {
			continue
		}
		d := slices.Index(it.Declined, a.ID)
		if d < 0 {
			return "" // someone who could take it has not refused it
		}
		if d < at {
			oldest, at = a.ID, d
		}
	}
	return oldest
}

// PickItem returns the index of the first item of candidates (of queue q,
// already in CompareItems order) that agent a is eligible for, or -1.
func PickItem(q *Queue, a *Agent, candidates []Item, now time.Time) int {
	for i := range candidates {
		if Check(q, a, &candidates[i], now) == Eligible {
			return i
		}
	}
	return -1
}

// PickPull returns the index of the first item of candidates (of queue q,
// in CompareItems order) that agent a may pull (see CheckPull), or -1.
func PickPull(q *Queue, a *Agent, candidates []Item, now time.Time) int {
	for i := range candidates {
		if CheckPull(q, a, &candidates[i], now) == Eligible {
			return i
		}
	}
	return -1
}
