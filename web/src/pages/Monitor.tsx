import { Note } from "../components/ui";

export default function MonitorPage() {
  return <Note>Monitor: not built yet.</Note>;
}
