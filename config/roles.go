package config

// The console roles (console.agents[].role). An agent without one is a
// supervisor: before roles existed every console agent could do
// everything, and a configuration written then keeps working the same.
const (
	RoleTechnician = "technician"
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
)

// ValidRole reports whether role is a console role, or empty.
func ValidRole(role string) bool {
	switch role {
	case "", RoleTechnician, RoleAgent, RoleSupervisor:
		return true
	}
	return false
}

// RoleOf returns a's role, supervisor when it has none.
func (a Agent) RoleOf() string {
	if a.Role == "" {
		return RoleSupervisor
	}
	return a.Role
}
