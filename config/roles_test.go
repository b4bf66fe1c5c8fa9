package config

import (
	"strings"
	"testing"
)

// TestAgentRoles: a console agent's role is technician, agent or
// supervisor, and none is a supervisor; config check names anything else.
func TestAgentRoles(t *testing.T) {
	for role, want := range map[string]string{"": RoleSupervisor, "technician": "technician", "agent": "agent", "supervisor": "supervisor"} {
		c := full()
		c.Console.Agents[1].Role = role
		if err := c.Validate(); err != nil {
			t.Errorf("role %q: %v", role, err)
		}
		if got := c.Console.Agents[1].RoleOf(); got != want {
			t.Errorf("RoleOf(%q) = %q, want %q", role, got, want)
		}
	}
	for _, role := range []string{"admin", "Supervisor", " agent"} {
		c := full()
		c.Console.Agents[1].Role = role
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "console.agents[1].role") || !strings.Contains(err.Error(), "technician, agent or supervisor") {
			t.Errorf("role %q: %v, want a problem with console.agents[1].role", role, err)
		}
	}
}

// TestAgentRoleLoaded: role is read from the file.
func TestAgentRoleLoaded(t *testing.T) {
	c, err := Load(strings.NewReader("console:\n  agents:\n    - name: ann\n      password_hash: \"$2y$12$x\"\n      role: technician\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Console.Agents[0].RoleOf(); got != RoleTechnician {
		t.Errorf("role %q", got)
	}
}
