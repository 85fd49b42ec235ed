package deploy

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
	"time"
)

// k8sObject is the part of a Deployment or Service the checks read.
type k8sObject struct {
	Kind string
	Spec struct {
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int
				SecurityContext               struct{ RunAsNonRoot bool }
				Containers                    []k8sContainer
			}
		}
		Ports []struct {
			Name       string
			Port       int
			TargetPort any
		}
	}
}

// k8sContainer is the part of a container spec the checks read.
type k8sContainer struct {
	Args  []string
	Ports []struct {
		Name          string
		ContainerPort int
	}
	ReadinessProbe struct{ HTTPGet struct{ Path, Port string } }
	Lifecycle      struct {
		PreStop struct{ Sleep struct{ Seconds int } }
	}
	Resources struct{ Limits map[string]string }
	// SecurityContext.AllowPrivilegeEscalation is a pointer: absent means
	// allowed.
	SecurityContext struct {
		AllowPrivilegeEscalation *bool
		ReadOnlyRootFilesystem   bool
	}
}

// loadKubernetes parses the manifest with PyYAML (Debian's python3-yaml)
// into JSON: a YAML parser nobody here wrote is the judge of the syntax.
func loadKubernetes(t *testing.T) []k8sObject {
	t.Helper()
	const script = "import sys, json, yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)"
	needTool(t, "python3-yaml", func() error { return exec.Command("/usr/bin/python3", "-c", "import yaml").Run() })
	var out, errOut bytes.Buffer
	cmd := exec.Command("/usr/bin/python3", "-c", script, "kubernetes/myriad.yaml")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("parsing kubernetes/myriad.yaml: %v\n%s", err, errOut.String())
	}
	var objs []k8sObject
	if err := json.Unmarshal(out.Bytes(), &objs); err != nil {
		t.Fatal(err)
	}
	return objs
}

// checkKubernetes checks the grace period covers preStop and the drain,
// the readiness probe is /readyz on the API port, and the ports agree with
// the flags.
func checkKubernetes(t *testing.T, defs map[string]string, defaultDrain time.Duration) {
	objs := loadKubernetes(t)
	kinds := map[string]k8sObject{}
	for _, o := range objs {
		kinds[o.Kind] = o
	}
	dep, ok := kinds["Deployment"]
	if !ok || len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want a Deployment with one container, got %+v", objs)
	}
	svc, ok := kinds["Service"]
	if !ok {
		t.Fatal("no Service")
	}
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]

	drain := defaultDrain
	if v := flagValue(c.Args, "drain-timeout", ""); v != "" {
		var err error
		if drain, err = time.ParseDuration(v); err != nil {
			t.Fatalf("--drain-timeout %q: %v", v, err)
		}
	}
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second
	if preStop <= 0 {
		t.Error("no preStop sleep: clients are sent away before the load balancer stops sending new ones")
	}
	if grace <= preStop+drain {
		t.Errorf("terminationGracePeriodSeconds %v does not cover preStop %v + drain %v", grace, preStop, drain)
	}

	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, flag := range map[string]string{"ws": "addr", "api": "api-addr"} {
		if want := portOf(t, flagValue(c.Args, flag, defs[flag])); ports[name] != want {
			t.Errorf("containerPort %q is %d, --%s listens on %d", name, ports[name], flag, want)
		}
	}
	if p := c.ReadinessProbe.HTTPGet; p.Path != "/readyz" || ports[p.Port] != ports["api"] {
		t.Errorf("readiness probe %+v, want /readyz on the api port", p)
	}
	for _, sp := range svc.Spec.Ports {
		if tp, _ := sp.TargetPort.(string); ports[tp] == 0 {
			t.Errorf("Service port %q targets %v, not a named container port", sp.Name, sp.TargetPort)
		}
	}

	if !pod.SecurityContext.RunAsNonRoot {
		t.Error("pod may run as root")
	}
	if e := c.SecurityContext.AllowPrivilegeEscalation; e == nil || *e {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("root filesystem is writable")
	}
	if c.Resources.Limits["memory"] == "" {
		t.Error("no memory limit")
	}
}
