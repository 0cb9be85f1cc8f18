import { Note } from "../components/ui";

export default function AdminPage() {
  return <Note>Admin: not built yet.</Note>;
}
