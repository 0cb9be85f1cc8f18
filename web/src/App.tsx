/** Routes. Every view's state lives in its URL, so any view is a link. Heavy pages load lazily. */
import { lazy, Suspense, useEffect, useState } from "react";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { ApiError, apiGet, getCsrfToken, onUnauthorized, refreshCsrfToken } from "./lib/api";
import { MeContext } from "./lib/me";
import type { Me } from "./lib/types";
import { Layout } from "./components/Layout";
import { ErrorBox, Loading, NotFound } from "./components/ui";
import { ProjectsPage } from "./pages/Projects";
import { SignInPage } from "./pages/SignIn";

const RunsPage = lazy(() => import("./pages/Runs"));
const RunsIndex = lazy(() => import("./pages/RunsIndex"));
const RunPage = lazy(() => import("./pages/Run"));
const ComparePage = lazy(() => import("./pages/Compare"));
const RegistryPage = lazy(() => import("./pages/Registry"));
const ModelPage = lazy(() => import("./pages/Model"));
const VersionPage = lazy(() => import("./pages/Version"));
const ApprovalsPage = lazy(() => import("./pages/Approvals"));
const RequestPage = lazy(() => import("./pages/Request"));
const DeploymentsPage = lazy(() => import("./pages/Deployments"));
const DeploymentPage = lazy(() => import("./pages/Deployment"));
const MonitorsPage = lazy(() => import("./pages/Monitors"));
const MonitorPage = lazy(() => import("./pages/Monitor"));
const TeamPage = lazy(() => import("./pages/Team"));
const ReportsPage = lazy(() => import("./pages/Reports"));
const ReportPage = lazy(() => import("./pages/Report"));
const AdminPage = lazy(() => import("./pages/Admin"));
const InsightsPage = lazy(() => import("./pages/Insights"));

function useMeState(): { me: Me | null; error: ApiError | null } {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const loc = useLocation();
  const onSignIn = loc.pathname === "/signin";
  useEffect(() => {
    if (onSignIn) return;
    apiGet<Me>("/me").then(
      (m) => {
        setMe(m);
        setError(null);
        // Signed in by cookie but this page has no CSRF token yet (a reload, a new tab): read it now.
        if (m.authenticated && !getCsrfToken()) void refreshCsrfToken();
      },
      (e: ApiError) => setError(e),
    );
  }, [onSignIn]);
  return { me, error };
}

export function App() {
  const nav = useNavigate();
  const loc = useLocation();
  const { me, error } = useMeState();
  useEffect(
    () =>
      onUnauthorized((err) => {
        if (window.location.pathname === "/signin") return;
        const next = window.location.pathname + window.location.search;
        // A session that ended (expired, signed out elsewhere, key revoked) says so on the sign-in page.
        const reason = /session/.test(err.message) ? err.message : undefined;
        nav(`/signin?next=${encodeURIComponent(next)}`, { replace: true, state: { reason } });
      }),
    [nav],
  );
  if (loc.pathname === "/signin") return <SignInPage />;
  const fullHeight = /^\/projects\/[^/]+\/runs\/?$/.test(loc.pathname);
  return (
    <MeContext.Provider value={me}>
      <Layout full={fullHeight}>
        {error && error.status !== 401 ? <ErrorBox error={error} /> : null}
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<Navigate to="/projects" replace />} />
            <Route path="/projects" element={<ProjectsPage />} />
            <Route path="/projects/:project" element={<ProjectRedirect />} />
            <Route path="/projects/:project/runs" element={<RunsPage />} />
            <Route path="/projects/:project/team" element={<TeamPage />} />
            <Route path="/projects/:project/reports" element={<ReportsPage />} />
            <Route path="/projects/:project/reports/:name" element={<ReportPage />} />
            <Route path="/runs" element={<RunsIndex />} />
            <Route path="/runs/:runId" element={<RunPage />} />
            <Route path="/compare" element={<ComparePage />} />
            <Route path="/registry" element={<RegistryPage />} />
            <Route path="/registry/:model" element={<ModelPage />} />
            <Route path="/registry/:model/versions/:version" element={<VersionPage />} />
            <Route path="/approvals" element={<ApprovalsPage />} />
            <Route path="/approvals/:id" element={<RequestPage />} />
            <Route path="/deployments" element={<DeploymentsPage />} />
            <Route path="/deployments/:name" element={<DeploymentPage />} />
            <Route path="/monitoring" element={<MonitorsPage />} />
            <Route path="/monitoring/:name" element={<MonitorPage />} />
            <Route path="/insights" element={<InsightsPage />} />
            <Route path="/admin" element={<AdminPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </Layout>
    </MeContext.Provider>
  );
}

function ProjectRedirect() {
  const loc = useLocation();
  return <Navigate to={`${loc.pathname.replace(/\/$/, "")}/runs`} replace />;
}
