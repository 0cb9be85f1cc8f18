import { Note } from "../components/ui";

export default function MonitorsPage() {
  return <Note>Monitors: not built yet.</Note>;
}
