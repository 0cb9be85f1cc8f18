import { Note } from "../components/ui";

export default function ApprovalsPage() {
  return <Note>Approvals: not built yet.</Note>;
}
