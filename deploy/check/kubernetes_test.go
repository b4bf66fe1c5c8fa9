package check

import (
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const kustomizeDir = "../kubernetes"

// manifests is what `kubectl apply -k deploy/kubernetes` would send, each
// object decoded strictly into its API type.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret
	pdb        *policyv1.PodDisruptionBudget
}

// decodeStrict decodes a YAML object into v and refuses a field v does not
// have, a duplicate field, and a value of the wrong type.
func decodeStrict(data []byte, v any) error {
	return yaml.UnmarshalStrict(data, v)
}

func buildKustomize(t *testing.T) manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), kustomizeDir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", kustomizeDir, err)
	}
	var m manifests
	for _, r := range rm.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		id := r.CurId()
		var obj any
		switch id.Kind {
		case "Deployment":
			m.deployment = new(appsv1.Deployment)
			obj = m.deployment
		case "Service":
			m.service = new(corev1.Service)
			obj = m.service
		case "ConfigMap":
			m.configMap = new(corev1.ConfigMap)
			obj = m.configMap
		case "Secret":
			m.secret = new(corev1.Secret)
			obj = m.secret
		case "PodDisruptionBudget":
			m.pdb = new(policyv1.PodDisruptionBudget)
			obj = m.pdb
		default:
			t.Errorf("unexpected object %s: add it to this test", id)
			continue
		}
		if err := decodeStrict(data, obj); err != nil {
			t.Errorf("%s does not decode strictly into its API type: %v", id, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if m.deployment == nil || m.service == nil || m.configMap == nil || m.secret == nil || m.pdb == nil {
		t.Fatalf("want a Deployment, a Service, a ConfigMap, a Secret and a PodDisruptionBudget, got %+v", m)
	}
	return m
}

// TestStrictDecoding shows that the decoding above would catch a misspelt
// or misplaced field.
func TestStrictDecoding(t *testing.T) {
	var d appsv1.Deployment
	if err := decodeStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n"), &d); err == nil {
		t.Errorf("an unknown field decoded without an error")
	}
	var p corev1.Pod
	if err := decodeStrict([]byte("spec:\n  containers:\n    - name: a\n      readinessProbe:\n        path: /readyz\n"), &p); err == nil {
		t.Errorf("a misplaced field decoded without an error")
	}
}

func TestKustomizeDeployment(t *testing.T) {
	m := buildKustomize(t)
	d := m.deployment
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas %v, want at least 2", d.Spec.Replicas)
	}
	if len(spec.InitContainers) > 0 {
		t.Errorf("init containers %v: assistbot migrates when it starts, under an advisory lock", spec.InitContainers)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("strategy %+v: want a rolling update that starts the new version before stopping an old one", d.Spec.Strategy)
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || selector.Empty() || !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", d.Spec.Selector, d.Spec.Template.Labels)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("containers %d, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if !strings.HasPrefix(c.Image, "registry.example.com/assistbot:") {
		t.Errorf("image %q: kustomization.yaml's images entry did not apply", c.Image)
	}

	// The container port is the one assistbot.yaml listens on.
	file, env := configOf(t, m)
	port := configListenPort(t, []byte(m.configMap.Data[file]))
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != int32(atoi(t, port)) {
		t.Fatalf("container ports %v, want server.listen's port %s", c.Ports, port)
	}
	for _, p := range []struct {
		name, path string
		probe      *corev1.Probe
	}{
		{"readinessProbe", "/readyz", c.ReadinessProbe},
		{"livenessProbe", "/healthz", c.LivenessProbe},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: want an HTTP GET of %s", p.name, p.path)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s asks %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if !portIs(p.probe.HTTPGet.Port, c.Ports[0]) {
			t.Errorf("%s asks port %s, not the container's port %d", p.name, p.probe.HTTPGet.Port.String(), c.Ports[0].ContainerPort)
		}
	}
	if sp := c.StartupProbe; sp != nil && (sp.HTTPGet == nil || sp.HTTPGet.Path != "/healthz" || !portIs(sp.HTTPGet.Port, c.Ports[0])) {
		t.Errorf("startupProbe %+v, want /healthz on the container's port", sp)
	}

	// Resources: requests for the scheduler, a memory limit.
	req, lim := c.Resources.Requests, c.Resources.Limits
	for name, want := range map[string]struct {
		got  resource.Quantity
		ok   bool
		want string
	}{
		"requests.cpu":    {req[corev1.ResourceCPU], hasKey(req, corev1.ResourceCPU), "100m"},
		"requests.memory": {req[corev1.ResourceMemory], hasKey(req, corev1.ResourceMemory), "64Mi"},
		"limits.memory":   {lim[corev1.ResourceMemory], hasKey(lim, corev1.ResourceMemory), "256Mi"},
	} {
		if !want.ok || want.got.Cmp(resource.MustParse(want.want)) != 0 {
			t.Errorf("%s = %s (set: %v), want %s", name, want.got.String(), want.ok, want.want)
		}
	}

	// Every variable taken from a Secret names this Secret and one of its
	// keys; every key is used.
	used := map[string]bool{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref == nil {
			t.Errorf("env %s: only Secret references are expected", e.Name)
			continue
		}
		if ref.Name != m.secret.Name {
			t.Errorf("env %s refers to Secret %q, not %q", e.Name, ref.Name, m.secret.Name)
		}
		if _, ok := m.secret.StringData[ref.Key]; !ok {
			t.Errorf("env %s refers to key %q, which Secret %s lacks", e.Name, ref.Key, m.secret.Name)
		}
		used[ref.Key] = true
	}
	for k := range m.secret.StringData {
		if !used[k] {
			t.Errorf("Secret key %s is not passed to assistbot", k)
		}
	}
	if env["ASSISTBOT_CONFIG"] == "" {
		t.Errorf("ASSISTBOT_CONFIG is not set")
	}
}

func TestKustomizeServiceAndPDB(t *testing.T) {
	m := buildKustomize(t)
	pods := labels.Set(m.deployment.Spec.Template.Labels)
	c := m.deployment.Spec.Template.Spec.Containers[0]

	s := m.service
	if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(pods) {
		t.Errorf("the Service's selector %v does not select the Deployment's pods %v", s.Spec.Selector, pods)
	}
	if s.Spec.SessionAffinity != "" && s.Spec.SessionAffinity != corev1.ServiceAffinityNone {
		t.Errorf("session affinity %s: assistbot needs none", s.Spec.SessionAffinity)
	}
	if len(s.Spec.Ports) != 1 || !portIs(s.Spec.Ports[0].TargetPort, c.Ports[0]) {
		t.Errorf("Service ports %v, want one to the container's port", s.Spec.Ports)
	}

	p := m.pdb
	selector, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil || selector.Empty() || !selector.Matches(pods) {
		t.Errorf("the PodDisruptionBudget's selector %v does not select the Deployment's pods %v", p.Spec.Selector, pods)
	}
	if p.Spec.MinAvailable == nil || p.Spec.MinAvailable.IntValue() < 1 || p.Spec.MinAvailable.IntValue() >= int(*m.deployment.Spec.Replicas) {
		t.Errorf("minAvailable %v: want at least 1 and fewer than the %d replicas, so a drain can go on", p.Spec.MinAvailable, *m.deployment.Spec.Replicas)
	}
}

// TestKustomizeConfigCheck runs `assistbot config check` on the
// ConfigMap's file with the environment the Deployment gives the
// container: with secrets filled in it passes, and with the Secret
// template's placeholders it fails.
func TestKustomizeConfigCheck(t *testing.T) {
	m := buildKustomize(t)
	name, _ := configOf(t, m)
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(m.configMap.Data[name]), 0o600); err != nil {
		t.Fatal(err)
	}

	secrets := map[string]string{
		"PGPASSWORD":          "a-dummy-database-password",
		"ADMIN_PASSWORD_HASH": dummyHash,
		"ASSISTBOT_API_TOKEN": "0123456789abcdef0123456789abcdef",
		"METRICS_TOKEN":       "fedcba9876543210fedcba9876543210",
	}
	mustPassConfigCheck(t, "the ConfigMap's file", file, environ(containerEnv(t, m, secrets)))

	out, ok := configCheck(t, file, environ(containerEnv(t, m, m.secret.StringData)))
	if ok {
		t.Errorf("the Secret template's placeholders pass config check; they should be refused")
	}
	for _, key := range []string{"console.agents[0].password_hash", "api.tokens", "metrics.token"} {
		if !strings.Contains(out, key) {
			t.Errorf("with the placeholders, config check does not refuse %s:\n%s", key, out)
		}
	}
}

// configOf checks that the ConfigMap is mounted where ASSISTBOT_CONFIG
// points, and returns the ConfigMap key of the file and the container's
// literal environment.
func configOf(t *testing.T, m manifests) (string, map[string]string) {
	t.Helper()
	spec := m.deployment.Spec.Template.Spec
	c := spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	cfgPath := env["ASSISTBOT_CONFIG"]
	dir, name := path.Split(cfgPath)
	if _, ok := m.configMap.Data[name]; !ok {
		t.Fatalf("ASSISTBOT_CONFIG is %q, but the ConfigMap has no key %q", cfgPath, name)
	}
	for _, vm := range c.VolumeMounts {
		if path.Clean(vm.MountPath) != path.Clean(dir) {
			continue
		}
		if !vm.ReadOnly || vm.SubPath != "" {
			t.Errorf("the configuration mount %+v should be read-only and whole (a subPath never sees updates)", vm)
		}
		for _, v := range spec.Volumes {
			if v.Name == vm.Name {
				if v.ConfigMap == nil || v.ConfigMap.Name != m.configMap.Name {
					t.Fatalf("%s is mounted from %+v, not ConfigMap %s", dir, v.VolumeSource, m.configMap.Name)
				}
				return name, env
			}
		}
	}
	t.Fatalf("nothing is mounted at %s, the directory of ASSISTBOT_CONFIG", dir)
	return "", nil
}

// containerEnv is the container's environment with each Secret reference
// replaced by secrets[key].
func containerEnv(t *testing.T, m manifests, secrets map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range m.deployment.Spec.Template.Spec.Containers[0].Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			v, ok := secrets[e.ValueFrom.SecretKeyRef.Key]
			if !ok {
				t.Fatalf("no value for Secret key %s", e.ValueFrom.SecretKeyRef.Key)
			}
			env[e.Name] = v
		}
	}
	return env
}

// portIs reports whether p names or numbers the container port cp.
func portIs(p intstr.IntOrString, cp corev1.ContainerPort) bool {
	if p.Type == intstr.String {
		return cp.Name != "" && p.StrVal == cp.Name
	}
	return p.IntVal == cp.ContainerPort
}

func hasKey(l corev1.ResourceList, name corev1.ResourceName) bool {
	_, ok := l[name]
	return ok
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
