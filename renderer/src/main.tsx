import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App';
import { ModelContext } from './context';
import { connectHost } from './host';
import { createModel } from './stores/model';
import type { View } from './stores/app';
import './styles.css';

const VIEWS: View[] = ['clusters', 'kernels', 'console', 'lab', 'settings'];
const fromHash = location.hash.replace(/^#\/?/, '') as View;
const model = createModel(connectHost(window), {
  initialView: VIEWS.includes(fromHash) ? fromHash : 'clusters',
});

// Keep the screen in the address (#kernels) so a reload stays on it.
model.app.subscribe((s, prev) => {
  if (s.view !== prev.view && VIEWS.includes(s.view)) history.replaceState(null, '', `#${s.view}`);
});

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <ModelContext.Provider value={model}>
        <App />
      </ModelContext.Provider>
    </StrictMode>,
  );
}
