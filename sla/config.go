package sla

import (
	"fmt"
	"maps"
	"slices"
)

// Rule says which policy applies to which interactions. Empty fields match
// everything.
type Rule struct {
	// Queue matches the interaction's queue.
	Queue string
	// Route matches the name of the route rule the interaction came by.
	Route string
	// MinPriority, when not zero, matches priorities at or above it.
	MinPriority int
	// Policy names the policy that applies.
	Policy string
}

func (r Rule) matches(queue, route string, priority int) bool {
	return (r.Queue == "" || r.Queue == queue) &&
		(r.Route == "" || r.Route == route) &&
		(r.MinPriority == 0 || priority >= r.MinPriority)
}

// Config is a host's service levels, as data: the policies, the rules
// that pick one per interaction (the first match wins, as with routes: put
// a route's or a priority's override before its queue's rule) and the
// policy for interactions no rule matches ("" for none).
type Config struct {
	Policies []Policy
	Rules    []Rule
	Default  string
}

// Set is a validated Config bound to its calendars. It is immutable and
// safe for concurrent use.
type Set struct {
	machines map[string]Machine
	rules    []Rule
	fallback string
}

// NewSet validates cfg against the calendars its targets may name.
// Errors: ErrInvalidPolicy, ErrUnknownCalendar, ErrUnknownPolicy.
func NewSet(cfg Config, cals Calendars) (*Set, error) {
	s := &Set{machines: map[string]Machine{}, rules: slices.Clone(cfg.Rules), fallback: cfg.Default}
	for _, p := range cfg.Policies {
		if p.Name == "" {
			return nil, fmt.Errorf("sla: a policy without a name: %w", ErrInvalidPolicy)
		}
		if _, dup := s.machines[p.Name]; dup {
			return nil, fmt.Errorf("sla: two policies named %q: %w", p.Name, ErrInvalidPolicy)
		}
		m, err := NewMachine(p, cals)
		if err != nil {
			return nil, err
		}
		s.machines[p.Name] = m
	}
	for i, r := range cfg.Rules {
		if _, ok := s.machines[r.Policy]; !ok {
			return nil, fmt.Errorf("sla: rule %d names policy %q: %w", i, r.Policy, ErrUnknownPolicy)
		}
	}
	if _, ok := s.machines[cfg.Default]; cfg.Default != "" && !ok {
		return nil, fmt.Errorf("sla: default policy %q: %w", cfg.Default, ErrUnknownPolicy)
	}
	return s, nil
}

// Select returns the machine of the policy that applies to an interaction
// of queue, come by route (the route rule's name, "" for none), with
// priority: the first rule that matches, else the default. It reports
// false when no policy applies: the interaction has no deadlines.
func (s *Set) Select(queue, route string, priority int) (Machine, bool) {
	for _, r := range s.rules {
		if r.matches(queue, route, priority) {
			return s.machines[r.Policy], true
		}
	}
	m, ok := s.machines[s.fallback]
	return m, ok
}

// Machine returns the machine of the policy named name.
func (s *Set) Machine(name string) (Machine, bool) {
	m, ok := s.machines[name]
	return m, ok
}

// Names returns the policies' names, sorted.
func (s *Set) Names() []string { return slices.Sorted(maps.Keys(s.machines)) }
