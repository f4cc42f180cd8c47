package routing_test

import (
	"fmt"
	"time"

	"github.com/emailflow/emailflow/routing"
)

func ExamplePickAgent() {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	email := routing.Item{ID: "int-1", Skills: map[string]int{"billing": 2}, Language: "fr"}
	agents := []routing.Agent{
		{ID: "ann", Ready: true, Capacity: 2, Skills: map[string]int{"billing": 1}, Languages: []string{"fr"}},
		{ID: "bob", Ready: true, Capacity: 2, Skills: map[string]int{"billing": 3}, Languages: []string{"en"}},
		{ID: "eve", Ready: true, Capacity: 2, Skills: map[string]int{"billing": 2}, Languages: []string{"fr"}},
	}
	for _, a := range agents {
		fmt.Printf("%s: %q\n", a.ID, routing.Check(nil, &a, &email, now))
	}
	fmt.Println("offered to", agents[routing.PickAgent(nil, &email, agents, now)].ID)
	// Output:
	// ann: "lacks a required skill"
	// bob: "does not speak the language"
	// eve: ""
	// offered to eve
}

func ExampleLift() {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	logged := []routing.Agent{{ID: "ann"}, {ID: "bob"}}
	email := routing.Item{ID: "int-1", Declined: []string{"bob"}}
	fmt.Printf("%q\n", routing.Lift(nil, &email, logged, now)) // ann has not declined it: it waits for her
	email.Declined = append(email.Declined, "ann")
	fmt.Printf("%q\n", routing.Lift(nil, &email, logged, now)) // both declined: bob's decline is the oldest
	// Output:
	// ""
	// "bob"
}
