package routing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/emailflow/emailflow/routing"
)

var now = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func TestCheck(t *testing.T) {
	ready := routing.Agent{ID: "ann", Ready: true, Skills: map[string]int{"billing": 2}, Languages: []string{"fr"}, Roles: []string{"agent"}, Capacity: 2, Load: 1}
	item := routing.Item{ID: "i1", Skills: map[string]int{"billing": 2}, Language: "fr"}
	tests := []struct {
		name  string
		agent func(a *routing.Agent)
		item  func(i *routing.Item)
		queue *routing.Queue
		want  routing.Reason
	}{
		{"eligible", nil, nil, nil, routing.Eligible},
		{"not ready", func(a *routing.Agent) { a.Ready = false }, nil, nil, routing.NotReady},
		{"at capacity", func(a *routing.Agent) { a.Load = 2 }, nil, nil, routing.AtCapacity},
		{"zero capacity means one", func(a *routing.Agent) { a.Capacity, a.Load = 0, 0 }, nil, nil, routing.Eligible},
		{"skill level too low", nil, func(i *routing.Item) { i.Skills = map[string]int{"billing": 3} }, nil, routing.LacksSkill},
		{"missing skill", nil, func(i *routing.Item) { i.Skills = map[string]int{"vip": 1} }, nil, routing.LacksSkill},
		{"queue skill", nil, nil, &routing.Queue{Skills: map[string]int{"vip": 1}}, routing.LacksSkill},
		{"queue role", nil, nil, &routing.Queue{Roles: []string{"reviewer"}}, routing.LacksRole},
		{"queue role held", func(a *routing.Agent) { a.Roles = []string{"agent", "reviewer"} }, nil, &routing.Queue{Roles: []string{"reviewer"}}, routing.Eligible},
		{"one of the queue roles", func(a *routing.Agent) { a.Roles = []string{"supervisor"} }, nil, &routing.Queue{Roles: []string{"reviewer", "supervisor"}}, routing.Eligible},
		{"excluded", nil, func(i *routing.Item) { i.Excluded = []string{"ann"} }, nil, routing.Excluded},
		{"excluded over declined", nil, func(i *routing.Item) { i.Excluded, i.Declined = []string{"ann"}, []string{"ann"} }, nil, routing.Excluded},
		{"language", nil, func(i *routing.Item) { i.Language = "de" }, nil, routing.NoLanguage},
		{"no language needed", nil, func(i *routing.Item) { i.Language = "" }, nil, routing.Eligible},
		{"declined before", nil, func(i *routing.Item) { i.Declined = []string{"bob", "ann"} }, nil, routing.HasDeclined},
		{"reserved for another", nil, func(i *routing.Item) { i.Preferred, i.PreferUntil = "bob", now.Add(time.Minute) }, nil, routing.NotSticky},
		{"reserved for ann", nil, func(i *routing.Item) { i.Preferred, i.PreferUntil = "ann", now.Add(time.Minute) }, nil, routing.Eligible},
		{"reservation over", nil, func(i *routing.Item) { i.Preferred, i.PreferUntil = "bob", now }, nil, routing.Eligible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, it := ready, item
			if tt.agent != nil {
				tt.agent(&a)
			}
			if tt.item != nil {
				tt.item(&it)
			}
			assert.Equal(t, tt.want, routing.Check(tt.queue, &a, &it, now))
		})
	}
}

func TestPickAgentLongestIdleThenLeastLoaded(t *testing.T) {
	item := routing.Item{ID: "i1"}
	agents := []routing.Agent{
		{ID: "busy", Ready: true, Capacity: 1, Load: 1, IdleSince: now.Add(-3 * time.Hour)},
		{ID: "cara", Ready: true, Capacity: 3, Load: 2, IdleSince: now.Add(-time.Hour)},
		{ID: "bea", Ready: true, Capacity: 3, Load: 1, IdleSince: now.Add(-time.Hour)},
		{ID: "dan", Ready: true, Capacity: 3, Load: 0, IdleSince: now.Add(-time.Minute)},
	}
	i := routing.PickAgent(nil, &item, agents, now)
	assert.Equal(t, "bea", agents[i].ID, "busy is full; bea and cara idle longest, bea less loaded")
	assert.Equal(t, -1, routing.PickAgent(&routing.Queue{Roles: []string{"reviewer"}}, &item, agents, now))
}

func TestPickItemInOrder(t *testing.T) {
	items := []routing.Item{
		{ID: "a", Priority: 5, QueuedAt: now.Add(-time.Minute), Skills: map[string]int{"vip": 1}},
		{ID: "b", Priority: 5, QueuedAt: now, Declined: []string{"ann"}},
		{ID: "c", Priority: 1, QueuedAt: now.Add(-time.Hour)},
	}
	ann := routing.Agent{ID: "ann", Ready: true, Capacity: 1}
	i := routing.PickItem(nil, &ann, items, now)
	assert.Equal(t, "c", items[i].ID, "a needs a skill, b was declined")
	ann.Skills = map[string]int{"vip": 1}
	assert.Equal(t, "a", items[routing.PickItem(nil, &ann, items, now)].ID)
}

func TestCheckPull(t *testing.T) {
	ann := routing.Agent{ID: "ann", Ready: false, Capacity: 1, Load: 3, Languages: []string{"fr"}}
	tests := []struct {
		name string
		item routing.Item
		want routing.Reason
	}{
		{"status and load do not count", routing.Item{ID: "i1"}, routing.Eligible},
		{"a decline does not count", routing.Item{ID: "i1", Declined: []string{"ann"}}, routing.Eligible},
		{"excluded", routing.Item{ID: "i1", Excluded: []string{"ann"}}, routing.Excluded},
		{"reserved for another", routing.Item{ID: "i1", Preferred: "bob", PreferUntil: now.Add(time.Minute)}, routing.NotSticky},
		{"language", routing.Item{ID: "i1", Language: "de"}, routing.NoLanguage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, routing.CheckPull(nil, &ann, &tt.item, now))
		})
	}
	items := []routing.Item{{ID: "a", Excluded: []string{"ann"}}, {ID: "b", Declined: []string{"ann"}}}
	assert.Equal(t, 1, routing.PickPull(nil, &ann, items, now), "the declined item may be pulled, the excluded one never")
	assert.Equal(t, -1, routing.PickItem(nil, &routing.Agent{ID: "ann", Ready: true, Capacity: 1}, items, now))
}

func TestLift(t *testing.T) {
	fr := []string{"fr"}
	agents := []routing.Agent{
		{ID: "ann", Languages: fr},
		{ID: "bob", Languages: fr},
		{ID: "cara", Languages: fr},
		{ID: "eve", Languages: fr}, // the author: never counts
		{ID: "hans"},               // no French: cannot take it
	}
	tests := []struct {
		name     string
		declined []string
		want     string
	}{
		{"nobody declined", nil, ""},
		{"cara has not declined yet", []string{"bob", "ann"}, ""},
		{"all declined: the oldest decline", []string{"cara", "ann", "bob"}, "cara"},
		{"declines of others do not count", []string{"hans", "zed", "bob", "ann", "cara"}, "bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := routing.Item{ID: "i1", Language: "fr", Excluded: []string{"eve"}, Declined: tt.declined}
			assert.Equal(t, tt.want, routing.Lift(nil, &item, agents, now))
		})
	}
	assert.Empty(t, routing.Lift(nil, &routing.Item{ID: "i1", Declined: []string{"x"}}, nil, now), "no agent logged in")
}

func TestCompareItems(t *testing.T) {
	older := routing.Item{ID: "x", Priority: 1, QueuedAt: now.Add(-time.Hour)}
	urgent := routing.Item{ID: "y", Priority: 9, QueuedAt: now}
	same := routing.Item{ID: "a", Priority: 1, QueuedAt: now.Add(-time.Hour)}
	assert.Negative(t, routing.CompareItems(&urgent, &older), "higher priority first")
	assert.Positive(t, routing.CompareItems(&older, &same), "then by id")
	assert.Zero(t, routing.CompareItems(&older, &older))
}
