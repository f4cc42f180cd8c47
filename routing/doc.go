// Package routing holds emailflow's pure routing decisions: which agent an
// interaction is offered to, which waiting interaction an agent gets next,
// and the orders behind them. It does no I/O: the Workspace loads the
// candidates from the Store (in these orders, a page at a time) and asks
// this package to choose.
//
// The rules, after the Genesys anchors: an agent is eligible for an
// interaction when ready, below capacity, holding every required skill at
// the required level or above, speaking its language, holding one of the
// roles its queue requires, not excluded from it (the author of an email
// under review) and not among the agents who declined it; while a sticky
// preference holds, only the preferred agent is. Among eligible agents the
// longest idle wins, then the least loaded. Waiting interactions go highest
// priority first, oldest first within a priority.
//
// A pull is the agent's own choice (CheckPull, PickPull): their status,
// load and an earlier decline do not count. Once every agent who could
// take an item has declined it, the oldest decline is lifted (Lift), so it
// goes again to the one who declined it the longest ago.
package routing
